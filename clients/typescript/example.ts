// The README's example, type-checked by `npm run check`: a wrong path, body
// field or response field fails the check.
import { createClient, UsherError } from './index.js';

export async function example(token: string): Promise<void> {
  const usher = createClient({ baseUrl: 'https://usher.example.com', token });
  const me = await usher.post('/user/get', undefined);
  const org = await usher.post('/organization/create', { name: 'Acme' });
  try {
    await usher.post('/invitation/accept', { token: 'an-invitation-token' });
  } catch (e) {
    if (e instanceof UsherError && e.code === 'invitation.used_up') console.log('that link is used up');
  }
  const profile = await usher.get('/admin/profiles/{id}', { path: { id: '0190a0a0-0000-7000-8000-000000000000' } });
  console.log(me.displayName, org.currentOrganizationId, profile);
}

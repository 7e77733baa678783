// What the types must refuse, checked by `npm run check`: each line below
// carries `@ts-expect-error`, so tsc fails if the mistake ever type-checks.
import { createClient } from '../index.js';

export async function refused(): Promise<void> {
  const usher = createClient({ baseUrl: 'https://usher.example.com' });
  // @ts-expect-error: a misspelt body field
  await usher.post('/organization/create', { nam: 'Acme' });
  const me = await usher.post('/user/get', undefined);
  // @ts-expect-error: a field the User DTO does not have
  void me.displayNam;
  // @ts-expect-error: a path the API does not have
  await usher.post('/no/such/path', {});
  // @ts-expect-error: a method the path does not have
  await usher.get('/organization/create');
  // @ts-expect-error: a misspelt path parameter
  await usher.get('/admin/profiles/{id}', { path: { idd: 'x' } });
}

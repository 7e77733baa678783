// An SMTP server on loopback that keeps what it is sent: enough of RFC 5321
// (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, no TLS) for Usher's mailer,
// so the browser tests open the link of a real invitation e-mail.

import { createServer } from 'node:net';

/** Starts the sink; resolves with its `url` (`smtp://127.0.0.1:port`), the `messages` and `stop()`. */
export async function startSmtpSink() {
  const messages = [];
  // Who waits for which message (see `received`).
  const waiting = new Set();
  const server = createServer((socket) => {
    let buffer = '';
    let data = null;
    let envelope = { from: null, to: [] };
    const say = (line) => socket.write(`${line}\r\n`);
    say('220 usher-browser-tests ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            const message = { ...envelope, data: data.join('\r\n') };
            messages.push(message);
            for (const waiter of waiting) waiter(message);
            envelope = { from: null, to: [] };
            data = null;
            say('250 2.0.0 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') say('250-usher-browser-tests\r\n250 8BITMIME');
        else if (verb === 'HELO') say('250 usher-browser-tests');
        else if (verb === 'MAIL') {
          envelope.from = line.slice(10).trim();
          say('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          envelope.to.push(line.slice(8).trim());
          say('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          data = [];
          say('354 end with <CRLF>.<CRLF>');
        } else if (verb === 'RSET') {
          envelope = { from: null, to: [] };
          say('250 2.0.0 ok');
        } else if (verb === 'NOOP') say('250 2.0.0 ok');
        else if (verb === 'QUIT') {
          say('221 2.0.0 bye');
          socket.end();
        } else say('502 5.5.2 not implemented');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${server.address().port}`,
    messages,
    /** Resolves with the first message, received or to come, that `matches`. */
    received(matches) {
      const found = messages.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const waiter = (message) => {
          if (!matches(message)) return;
          waiting.delete(waiter);
          resolve(message);
        };
        waiting.add(waiter);
      });
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The message's text with quoted-printable soft line breaks and escapes
 * undone, so a link in it reads whole.
 */
export function plainText(message) {
  return message.data
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

// English: every other language falls back to these for a missing key.
export default {
  t: 'Report an error',
  k: 'What is wrong?',
  K: ['Typo', 'Factual error', 'Unclear', 'Other'],
  r: 'Suggested correction',
  c: 'Comment',
  n: 'Your name',
  e: 'Email',
  y: 'Tell me what happened to it',
  s: 'Send',
  x: 'Cancel',
  z: 'Close',
  ok: 'Thank you!',
  later: 'No connection: saved, will be sent later.',
  busy: 'Too many reports: will be sent in a minute.',
  long: 'Select at most 1000 characters.',
  err: 'Not sent',
};

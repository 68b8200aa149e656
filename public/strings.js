// What the server sends for /strings.js is the reader's own dictionary (server.ts: readersStrings); this file
// stands for it where nothing chooses (a plain static server): English.
export { default } from './strings-en.js';

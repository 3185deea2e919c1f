// The contract between the loader (feedback.js, cached by readers for up to a year) and
// the dialog chunk (loaded on demand, always the newest). docs/snippet.md describes it.
//
// The loader adds a <script> for the chunk and puts its host object on that element under
// HOST_KEY. The chunk, when it runs, reads document.currentScript[HOST_KEY] and calls
// host.connect(dialog). Both objects carry `v`, the interface version they speak.
// Members are only ever added; one that changes its meaning gets a new version, and the
// dialog keeps serving every older loader version it finds in host.v.
export const INTERFACE = 1;
export const HOST_KEY = 'readerFeedbackHost';

// A language chunk (feedback-lang-LANG.HASH.js, built from dialog/strings/LANG.js) is
// added by the dialog chunk with a function under STRINGS_KEY on its <script>; it calls
// that function with its strings. The dialog chunk and its language chunks are built
// together, so this needs no version of its own.
export const STRINGS_KEY = 'readerFeedbackStrings';

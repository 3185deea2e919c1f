// The dialog's styles, inside its shadow root. :host !important beats the page's !important,
// and `all` leaves custom properties alone, so a site's --reader-feedback-* reach in
// (docs/snippet.md: Theming). Colours meet WCAG AA on both schemes. Sizes are in px and
// em, never rem: the page owns the root font size, and may set it to 0.
export const STYLE = `:host{all:initial!important}
dialog{--a:var(--reader-feedback-accent,#1d4ed8);--at:var(--reader-feedback-accent-text,#fff);--r:var(--reader-feedback-radius,12px);--bg:#fff;--fg:#1c1c21;--mu:#54545c;--ln:#85858f;--fb:#fff;--er:#b42318;--ok:#166534;--qb:#f2f3f7;
color-scheme:light;font:16px/1.45 var(--reader-feedback-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);-webkit-text-size-adjust:100%;text-size-adjust:100%}
@media (prefers-color-scheme:dark){dialog{--a:var(--reader-feedback-accent,#93b4ff);--at:var(--reader-feedback-accent-text,#0b1733);--bg:#1f1f24;--fg:#ececf1;--mu:#b9b9c3;--ln:#8e8e99;--fb:#2a2a31;--er:#ffb3a8;--ok:#86efac;--qb:#2b2b33;color-scheme:dark}}
dialog{box-sizing:border-box;width:min(34em,calc(100vw - 32px));max-width:none;max-height:calc(100vh - 32px);padding:0;border:0;border-radius:var(--r);background:var(--bg);color:var(--fg);box-shadow:0 16px 48px rgba(0,0,0,.35);overflow:auto;overscroll-behavior:contain}
.sheet[open]{width:100%;max-width:none;margin:auto 0 0;max-height:92vh;border-radius:var(--r) var(--r) 0 0;padding-bottom:env(safe-area-inset-bottom)}
.hd{display:flex;align-items:center;gap:8px;padding:12px 12px 0 24px}
[dir=rtl] .hd{padding:12px 24px 0 12px}
h2{flex:1;margin:0;font-size:1.25em;line-height:1.3;font-weight:700}
form,.done{padding:4px 24px 24px}
.sheet form,.sheet .done{padding:4px 16px 20px}
.sheet .hd{padding-inline:16px 8px}
#q{margin:8px 0 16px;padding:10px 14px;border-inline-start:4px solid var(--a);border-radius:calc(var(--r)/2);background:var(--qb);color:var(--mu);white-space:pre-line;overflow-wrap:anywhere;font-size:.9375em}
mark{background:none;color:var(--fg);font-weight:700;text-decoration:underline 2px var(--er);text-underline-offset:3px}
.fd{margin:0 0 14px}
label{display:block;margin:0 0 6px;font-size:.9375em;font-weight:600}
select,textarea,input{box-sizing:border-box;width:100%;min-height:44px;margin:0;padding:9px 12px;border:1px solid var(--ln);border-radius:calc(var(--r)/2);background:var(--fb);color:var(--fg);font:inherit}
textarea{display:block;min-height:76px;resize:vertical}
#r{min-height:60px}
button{box-sizing:border-box;min-width:44px;min-height:44px;margin:0;padding:0 20px;border:1px solid var(--ln);border-radius:calc(var(--r)/2);background:transparent;color:var(--fg);font:inherit;font-weight:600;cursor:pointer}
button:hover{background:var(--qb)}
.pr,.pr:hover{border-color:var(--a);background:var(--a);color:var(--at)}
.pr:hover{filter:brightness(1.08)}
button:disabled{opacity:.5;cursor:default}
#x{width:44px;padding:0;border:0;border-radius:50%;color:var(--mu);font-size:28px;font-weight:400;line-height:1}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
[aria-invalid=true]{border:2px solid var(--er)}
.er{margin:6px 0 0;color:var(--er);font-size:.875em;font-weight:600}
.er:empty{display:none}
.pv{margin:8px 0 0;color:var(--mu);font-size:.9375em;overflow-wrap:anywhere}
.pv b{font-weight:600}
del{color:var(--er);text-decoration:line-through}
ins{color:var(--ok);text-decoration:none;font-weight:700}
.two{display:grid;grid-template-columns:1fr 1fr;gap:0 12px}
.sheet .two{grid-template-columns:1fr}
.ck{display:flex;align-items:center;gap:10px;min-height:44px;margin:0 0 8px;font-weight:400;cursor:pointer}
.ck input{flex:none;width:22px;height:22px;min-height:0;margin:0;accent-color:var(--a)}
.ac{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:12px;margin-top:8px}
.sheet .ac button{flex:1}
#m{margin:8px 24px 0;padding:10px 14px;border-radius:calc(var(--r)/2);background:var(--qb);font-size:.9375em}
.sheet #m{margin-inline:16px}
#m:empty{display:none}
.sent #m{margin-top:4px;padding:0;background:none;font-size:1.125em;font-weight:700}
.done p{margin:8px 0 0;color:var(--mu)}
.done .ac{margin-top:20px}
.h{position:absolute;left:-9999px}
[hidden]{display:none!important}`;

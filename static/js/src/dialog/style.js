// The dialog's styles, inside its shadow root. :host !important beats the page's !important.
export const CSS = `:host{all:initial!important}
dialog{color-scheme:light dark;font-family:system-ui,sans-serif}
dialog{width:30em}
#q{white-space:pre-line}
label{display:block;margin:8px 0}
select,textarea,input,button{font:inherit}
select,textarea,#n,#e{display:block;width:100%;box-sizing:border-box}
.h{position:absolute;left:-9999px}
[hidden]{display:none!important}`;

// Progressive enhancement only: every page works without this file.
// A form that moves money is sent once per tap: its button is disabled after the first
// submit (the server's idempotency key makes a second send harmless anyway).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches("form[data-once]")) return;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
});
// Print buttons (the QR poster).
document.addEventListener("click", function (event) {
  if (event.target.matches("[data-print]")) { window.print(); }
});
// Copy and Share (a payment request's link): the Web Share API where the phone has it
// (the Share button stays hidden otherwise); copying falls back to selecting the text
// where the Clipboard API is missing (plain HTTP on the shop's network).
document.querySelectorAll("[data-share]").forEach(function (b) {
  if (navigator.share) { b.hidden = false; }
});
document.addEventListener("click", function (event) {
  var b = event.target.closest("[data-copy], [data-share]");
  if (!b) return;
  var field = document.getElementById(b.dataset.copy || b.dataset.share);
  if (!field) return;
  if (b.dataset.share !== undefined && navigator.share) {
    navigator.share({ title: b.dataset.title, text: b.dataset.text, url: field.value }).catch(function () {});
    return;
  }
  var done = function () { b.textContent = b.dataset.done; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {});
  } else {
    field.select();
    if (document.execCommand("copy")) { done(); }
  }
});

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

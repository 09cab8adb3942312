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
// Quantity steppers (− n +): the buttons are shown only here, so without the script the
// number box works alone. Each tap moves the number by one within its min and max.
document.querySelectorAll(".stepper .step").forEach(function (b) { b.hidden = false; });
document.addEventListener("click", function (event) {
  var b = event.target.closest(".stepper .step");
  if (!b) return;
  var box = document.getElementById(b.dataset.for);
  if (!box) return;
  var low = parseInt(box.min, 10), high = parseInt(box.max, 10);
  var now = parseInt(box.value, 10);
  if (isNaN(now)) now = low;
  var next = Math.min(high, Math.max(low, now + parseInt(b.dataset.step, 10)));
  box.value = String(next);
  box.dispatchEvent(new Event("change", { bubbles: true }));
});

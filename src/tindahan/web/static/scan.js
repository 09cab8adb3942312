// Scan QR with the camera, where the browser has the BarcodeDetector API (Chrome on Android,
// for one): the code read from the video fills the text box and the form is sent. Elsewhere
// this does nothing and the photo box and the text box work as they are (web/scan.py).
(function () {
  var box = document.getElementById("camera");
  var form = document.getElementById("scan-form");
  if (!box || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") < 0) return;
    box.hidden = false;
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var video = document.getElementById("camera-view");
    document.getElementById("camera-start").addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        var look = function () {
          detector.detect(video).then(function (found) {
            if (found.length && found[0].rawValue) {
              stream.getTracks().forEach(function (t) { t.stop(); });
              form.querySelector("[name=payload]").value = found[0].rawValue;
              form.submit();
            } else {
              window.requestAnimationFrame(look);
            }
          }, function () { window.requestAnimationFrame(look); });
        };
        look();
      }, function () { box.hidden = true; });
    });
  }, function () {});
})();

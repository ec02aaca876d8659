// Tells the server the browser's time zone, so times are shown in the user's own zone.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  // Zone names use only cookie-safe characters (letters, digits, "/", "_", "+", "-").
  var cookie = "pushdeck_tz=" + zone;
  if (document.cookie.split("; ").indexOf(cookie) === -1) {
    document.cookie = cookie + "; path=/; max-age=31536000; SameSite=Lax";
  }
})();

// Loaded before bootstrap-italia's bundle: the video player it includes would otherwise add
// <style> elements to the page on load, which the Content-Security-Policy blocks (and the app
// shows no video).
window.VIDEOJS_NO_DYNAMIC_STYLE = true;

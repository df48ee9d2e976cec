// The one-tag embed of the chat widget: on any page,
//   <script src="https://switchboard.example/widget/embed.js" data-service-identifier="1122" async></script>
// adds a floating chat button; it opens the widget (/widget/?sid=…) in a frame beside
// it. A classic script, not a module, so it works in any page as it is. Options, as
// data attributes: data-service-identifier (the channel), data-label (button text),
// data-position ("right" or "left"), data-open ("true" to start opened).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__switchboardWidget) return;
  window.__switchboardWidget = true;
  var origin = new URL(script.src, location.href).origin;
  var sid = script.getAttribute("data-service-identifier") || "1122";
  var label = script.getAttribute("data-label") || "Chat with us";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";

  var host = document.createElement("div");
  host.setAttribute("data-switchboard", "widget");
  var shadow = host.attachShadow({ mode: "open" });
  shadow.innerHTML =
    "<style>" +
    ":host{all:initial}" +
    ".sb-button{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483646;display:flex;align-items:center;gap:8px;" +
    "padding:12px 18px;border:0;border-radius:999px;background:#2563eb;color:#fff;font:600 15px/1.2 system-ui,sans-serif;" +
    "box-shadow:0 6px 20px rgba(0,0,0,.25);cursor:pointer}" +
    ".sb-button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}" +
    ".sb-frame{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483647;width:min(380px,calc(100vw - 40px));" +
    "height:min(600px,calc(100vh - 110px));border:0;border-radius:14px;background:#fff;box-shadow:0 12px 40px rgba(0,0,0,.3)}" +
    ".sb-frame[hidden]{display:none}" +
    "@media (max-width:480px){.sb-frame{inset:0;width:100vw;height:100vh;border-radius:0}.sb-open .sb-button{top:10px;bottom:auto}}" +
    "</style>" +
    '<div class="sb-root"><iframe class="sb-frame" title="Chat" hidden></iframe>' +
    '<button class="sb-button" type="button" aria-expanded="false"></button></div>';
  var root = shadow.querySelector(".sb-root");
  var frame = shadow.querySelector(".sb-frame");
  var button = shadow.querySelector(".sb-button");
  button.textContent = label;

  function setOpen(open) {
    if (open && !frame.src) frame.src = origin + "/widget/?sid=" + encodeURIComponent(sid) + "&embedded=1";
    frame.hidden = !open;
    root.classList.toggle("sb-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "Close chat" : label;
  }
  button.addEventListener("click", function () {
    setOpen(frame.hidden);
  });
  function mount() {
    document.body.appendChild(host);
    if (script.getAttribute("data-open") === "true") setOpen(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();

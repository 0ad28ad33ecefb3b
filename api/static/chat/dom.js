/* Building the chat's elements from text only, and copying to the clipboard.

   The chat is several plain scripts, served as they are (no build step) and run in order
   (widget.js and index.html list them). This first one makes the chat's one global,
   `GcmRagChat`; each file adds its part to `GcmRagChat.parts`, and the last (mount.js) adds
   the public `GcmRagChat.mount`.

   Everything from the server or the user goes in as text (createTextNode, textContent),
   never parsed as HTML: `h` turns string children into text nodes. */
(function (parts) {
  "use strict";

  if (parts.dom) return; // already run: two embed tags on one page

  /* An element with attributes and children; string children become text nodes. */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    append(element, children);
    return element;
  }

  function append(parent, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  /* A speech-bubble icon, drawn rather than an emoji: not every system has an emoji font. */
  function chatIcon() {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "1.3em");
    svg.setAttribute("height", "1.3em");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(svgNs, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  /* Put `text` on the clipboard: the Clipboard API where the page is a secure context, else
     the old select-and-copy through a hidden textarea (plain-HTTP intranet pages). */
  async function copyToClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) {
        // Refused (no permission, no focus): try the fallback.
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.cssText = "position:fixed;top:0;left:-10000px;opacity:0;";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  parts.dom = { h, append, chatIcon, copyToClipboard };
})((window.GcmRagChat = window.GcmRagChat || { parts: {} }).parts);

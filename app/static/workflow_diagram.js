/* Draws the Mermaid diagrams of the workflow page (the vendored mermaid.min.js, no CDN).

   The Content-Security-Policy allows no inline style (app/security.py), and Mermaid writes
   styles three ways; each is turned into one the policy allows:
   - style attributes set by script become CSSOM declarations (element.style), which CSP allows;
   - <style> elements it creates get this page's nonce (this script's own);
   - the finished SVG, which Mermaid hands over as markup, loses its style attributes and
     <style> elements before it is parsed; they come back as CSSOM declarations and as <style>
     elements with the nonce.
   Mermaid runs with securityLevel "loose" (no DOMPurify pass, which parses markup in a way the
   policy reports): the diagrams' text is the app's own workflow table, never user input, and the
   policy forbids inline script anyway. */
(function () {
  "use strict";
  const nonce = document.currentScript ? document.currentScript.nonce : "";
  const setAttribute = Element.prototype.setAttribute;
  const setAttributeNS = Element.prototype.setAttributeNS;
  const createElement = Document.prototype.createElement;
  const createElementNS = Document.prototype.createElementNS;

  Element.prototype.setAttribute = function (name, value) {
    if (String(name).toLowerCase() === "style") {
      this.style.cssText = value;
      return;
    }
    setAttribute.call(this, name, value);
  };
  Element.prototype.setAttributeNS = function (ns, name, value) {
    if (!ns && String(name).toLowerCase() === "style") {
      this.style.cssText = value;
      return;
    }
    setAttributeNS.call(this, ns, name, value);
  };
  function withNonce(element) {
    if (element.localName === "style") {
      element.nonce = nonce;
    }
    return element;
  }
  Document.prototype.createElement = function (...args) {
    return withNonce(createElement.apply(this, args));
  };
  Document.prototype.createElementNS = function (...args) {
    return withNonce(createElementNS.apply(this, args));
  };

  const ENTITIES = { "&quot;": '"', "&#39;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&" };
  function decode(text) {
    return text.replace(/&(quot|#39|lt|gt|amp);/g, (entity) => ENTITIES[entity]);
  }

  /* Mermaid's SVG markup, drawn into `container` with no inline style for the policy to block:
     the style attributes and <style> elements are taken out of the markup before it is parsed,
     then put back as CSSOM declarations and as <style> elements carrying the nonce. */
  function drawSvg(container, markup) {
    const declarations = [];
    const sheets = [];
    const bare = markup
      .replace(/<style[^>]*>([\s\S]*?)<\/style>/g, (_tag, css) => {
        sheets.push(css);
        return "";
      })
      .replace(/\sstyle="([^"]*)"/g, (_attribute, value) => {
        declarations.push(decode(value));
        return ` data-csp-style="${declarations.length - 1}"`;
      });
    container.innerHTML = bare;
    for (const element of container.querySelectorAll("[data-csp-style]")) {
      element.style.cssText = declarations[Number(element.dataset.cspStyle)];
      element.removeAttribute("data-csp-style");
    }
    const svg = container.querySelector("svg");
    for (const css of sheets) {
      const sheet = document.createElementNS("http://www.w3.org/2000/svg", "style");
      sheet.textContent = decode(css);
      svg.prepend(sheet);
    }
  }

  /* Loaded before mermaid.min.js, so that its styles meet the rules above: draw once the page
     (and Mermaid) are loaded. */
  window.addEventListener("DOMContentLoaded", () => {
    mermaid.initialize({ startOnLoad: false, securityLevel: "loose", theme: "neutral" });
    document.querySelectorAll("pre.mermaid").forEach(async (container, index) => {
      const { svg } = await mermaid.render(`workflow-diagram-${index}`, container.textContent);
      drawSvg(container, svg);
    });
  });
})();

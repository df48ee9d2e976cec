// Attachments, for the desk and the widget alike: uploading one file
// (`POST /api/v1/conversations/{id}/attachments`, multipart/form-data, answered with a
// signed URL and the IMAGE/FILE body to send), showing an IMAGE body as a thumbnail
// and a FILE body as a chip with its name and size, and dropping files on a pane.

import { h } from "/shared/dom.js";

export class UploadError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const SVG = "http://www.w3.org/2000/svg";
/** Stroke icons (24×24), drawn here: no icon font, no emoji font needed. */
const ICONS = {
  paperclip: ["M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"],
  file: ["M13 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z", "M13 2v7h7"],
};

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({ viewBox: "0 0 24 24", width: "18", height: "18", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" })) {
    svg.setAttribute(key, value);
  }
  for (const d of ICONS[name]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** A refused upload in plain words. */
export function uploadErrorText(err) {
  switch (err?.code) {
    case "forbidden_type":
      return "this kind of file cannot be sent (images, PDF, text and office documents can)";
    case "too_large":
    case "not_participant":
      return err.message;
    case "network":
      return "the server cannot be reached; try again";
    default:
      return err?.message ?? "the upload failed";
  }
}

/** True for a body that carries an attachment (IMAGE, FILE, ... with `attachment`). */
export function isAttachment(body) {
  return typeof body?.attachment?.mediaUrl === "string";
}

/** "12 KB", "3.4 MB". */
export function formatSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The file name shown for an attachment body. */
export function attachmentName(body) {
  return body?.additionalDetails?.fileName || body?.caption || "file";
}

/**
 * Uploads `file` into the conversation; `headers` authenticate (a bearer token, or
 * the widget's X-Channel-Session + X-Session-Secret). Resolves with
 * `{id, url, expiresAt, fileName, size, mimeType, body}`; rejects with an UploadError
 * whose message is the server's, in plain words.
 */
export async function uploadAttachment(conversationId, file, headers) {
  const form = new FormData();
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch(`/api/v1/conversations/${encodeURIComponent(conversationId)}/attachments`, {
      method: "POST",
      headers: { Accept: "application/json", ...headers },
      body: form,
    });
  } catch (err) {
    throw new UploadError("network", `cannot reach the server (${err.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new UploadError(data?.code ?? `http_${response.status}`, data?.message ?? `upload failed (${response.status})`);
    error.message = uploadErrorText(error);
    throw error;
  }
  return data;
}

/** The attachment of a body: an image thumbnail (opens full size) or a file chip. */
export function attachmentNode(body) {
  const url = body.attachment.mediaUrl;
  const name = attachmentName(body);
  if (body.type === "IMAGE") {
    return h(
      "a",
      { class: "attachment-image", href: url, target: "_blank", rel: "noopener", title: `Open ${name}` },
      h("img", { class: "thumb", src: url, alt: name, loading: "lazy", "data-testid": "attachment-image" }),
    );
  }
  return h(
    "a",
    { class: "file-chip", href: url, target: "_blank", rel: "noopener", download: name, "data-testid": "attachment-file" },
    icon("file"),
    h("span", { class: "file-name", text: name }),
    h("span", { class: "file-size", text: formatSize(body.attachment.size) }),
  );
}

/** Calls `onFiles([File])` when files are dropped on `zone`, highlighting it meanwhile. */
export function acceptDrops(zone, onFiles) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  zone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    zone.classList.add("dropping");
  });
  zone.addEventListener("dragover", (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dropping");
  });
  zone.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dropping");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
}

/** A paperclip button and its hidden file input: `onFiles([File])` on a choice. */
export function attachButton(onFiles) {
  const input = h("input", { type: "file", hidden: true, multiple: true, "data-testid": "attach-input" });
  input.addEventListener("change", () => {
    const files = [...(input.files ?? [])];
    input.value = "";
    if (files.length) onFiles(files);
  });
  const button = h("button", {
    type: "button",
    class: "attach",
    title: "Attach an image or a file",
    "aria-label": "Attach a file",
    onClick: () => input.click(),
  });
  button.append(icon("paperclip"));
  return [button, input];
}

// Hangar's pages work without this script; it only adds conveniences: copy buttons, auto-submitting
// selects, confirmations, and drag-and-drop uploads that send large files straight to object storage
// through the Git LFS multipart API (the same API `git lfs` and huggingface_hub use).
(function () {
  "use strict";

  function cookie(name) {
    var found = document.cookie.split("; ").find(function (c) { return c.indexOf(name + "=") === 0; });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function copy(text, button) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      button.classList.add("copied");
      var label = button.getAttribute("aria-label");
      button.setAttribute("aria-label", "Copied");
      setTimeout(function () { button.classList.remove("copied"); if (label) button.setAttribute("aria-label", label); }, 1500);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-from]");
    if (!button) return;
    var source = button.getAttribute("data-copy-from");
    copy(source ? document.getElementById(source).textContent : button.getAttribute("data-copy"), button);
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // The delete button of repo settings is enabled once the full name is typed.
  document.querySelectorAll("[data-enable-when-equal]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-enable-when-equal"));
    var update = function () { button.disabled = input.value.trim() !== input.getAttribute("data-must-equal"); };
    input.addEventListener("input", update);
    update();
  });

  // Close an open menu with Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) { menu.open = false; menu.querySelector("summary").focus(); });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) { if (!menu.contains(event.target)) menu.open = false; });
  });

  // --- uploads -----------------------------------------------------------------------------------
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.fetch || !window.crypto || !crypto.subtle) return;
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-dropzone]");
  var list = form.querySelector("[data-upload-list]");
  var status = form.querySelector("[data-upload-status]");
  var threshold = parseInt(form.getAttribute("data-threshold"), 10);
  var chosen = [];

  function human(n) {
    var units = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  function show(files) {
    chosen = Array.prototype.slice.call(files);
    list.textContent = "";
    chosen.forEach(function (file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var size = document.createElement("span");
      size.className = "muted";
      size.textContent = human(file.size) + (file.size >= threshold ? " · LFS" : "");
      item.appendChild(name); item.appendChild(size);
      list.appendChild(item);
    });
  }

  input.addEventListener("change", function () { show(input.files); });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show(event.dataTransfer.files);
    }
  });

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function base64(buffer) {
    var bytes = new Uint8Array(buffer), out = "", step = 0x8000;
    for (var i = 0; i < bytes.length; i += step) out += String.fromCharCode.apply(null, bytes.subarray(i, i + step));
    return btoa(out);
  }

  function check(response, what) {
    if (response.ok) return response;
    return response.text().then(function (text) {
      var message = response.headers.get("X-Error-Message") || text.slice(0, 300);
      throw new Error(what + " failed (" + response.status + "): " + message);
    });
  }

  function lfsUpload(file, oid) {
    var csrf = cookie("hangar_csrf");
    var base = form.getAttribute("data-base") + ".git/info/lfs";
    var headers = { "Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json", "X-CSRF-Token": csrf };
    return fetch(base + "/objects/batch", {
      method: "POST", credentials: "same-origin", headers: headers,
      body: JSON.stringify({ operation: "upload", transfers: ["multipart", "basic"], hash_algo: "sha256", objects: [{ oid: oid, size: file.size }] })
    }).then(function (r) { return check(r, "LFS batch"); }).then(function (r) { return r.json(); }).then(function (answer) {
      var object = answer.objects[0];
      if (object.error) throw new Error(object.error.message);
      var actions = object.actions || {};
      if (!actions.upload) return null; // already stored and usable
      var upload = actions.upload, header = upload.header || {};
      if (header.chunk_size) {
        var size = parseInt(header.chunk_size, 10), keys = Object.keys(header).filter(function (k) { return /^\d+$/.test(k); }).sort();
        var parts = [];
        return keys.reduce(function (done, key, index) {
          return done.then(function () {
            status.textContent = "Uploading " + file.name + ": part " + (index + 1) + " of " + keys.length;
            return fetch(header[key], { method: "PUT", body: file.slice(index * size, (index + 1) * size) })
              .then(function (r) { return check(r, "Part upload"); })
              .then(function (r) { parts.push({ partNumber: index + 1, etag: (r.headers.get("ETag") || "").replace(/"/g, "") }); });
          });
        }, Promise.resolve()).then(function () {
          return fetch(upload.href, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ oid: oid, parts: parts }) });
        }).then(function (r) { return check(r, "Completing the upload"); });
      }
      status.textContent = "Uploading " + file.name;
      return fetch(upload.href, { method: "PUT", body: file }).then(function (r) { return check(r, "Upload"); }).then(function () {
        if (!actions.verify) return null;
        return fetch(actions.verify.href, { method: "POST", headers: { "Content-Type": "application/vnd.git-lfs+json" }, body: JSON.stringify({ oid: oid, size: file.size }) })
          .then(function (r) { return check(r, "Verification"); });
      });
    });
  }

  form.addEventListener("submit", function (event) {
    if (!chosen.length) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var folder = (form.querySelector("input[name=folder]").value || "").replace(/^\/+|\/+$/g, "");
    var summary = form.querySelector("[name=summary]").value.trim() || ("Upload " + chosen.map(function (f) { return f.name; }).slice(0, 3).join(", "));
    var lines = [JSON.stringify({ key: "header", value: { summary: summary, description: form.querySelector("[name=description]").value } })];
    chosen.reduce(function (done, file) {
      var path = folder ? folder + "/" + file.name : file.name;
      return done.then(function () {
        status.textContent = "Reading " + file.name;
        return file.arrayBuffer();
      }).then(function (buffer) {
        if (file.size < threshold) {
          lines.push(JSON.stringify({ key: "file", value: { path: path, content: base64(buffer), encoding: "base64" } }));
          return null;
        }
        return crypto.subtle.digest("SHA-256", buffer).then(function (digest) {
          var oid = hex(digest);
          return lfsUpload(file, oid).then(function () {
            lines.push(JSON.stringify({ key: "lfsFile", value: { path: path, algo: "sha256", oid: oid, size: file.size } }));
          });
        });
      });
    }, Promise.resolve()).then(function () {
      status.textContent = "Committing";
      var type = form.getAttribute("data-repo-type");
      var url = "/api/" + type + "s/" + form.getAttribute("data-repo-id") + "/commit/" + encodeURIComponent(form.getAttribute("data-revision"));
      return fetch(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/x-ndjson", "X-CSRF-Token": cookie("hangar_csrf") }, body: lines.join("\n") + "\n" });
    }).then(function (r) { return check(r, "Commit"); }).then(function (r) { return r.json(); }).then(function (answer) {
      window.location.assign(form.getAttribute("data-base") + "/commit/" + answer.commitOid);
    }).catch(function (error) {
      status.textContent = error.message;
      status.classList.add("error");
      button.disabled = false;
    });
  });
})();

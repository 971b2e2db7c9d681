"""The YAML kubeadm configs, kubeconfigs and manifests are written in: a subset.

Supported: JSON documents (JSON is YAML), block mappings and sequences
(including the compact "- key: value" form and sequences at their key's
indentation), plain / single- / double-quoted scalars, flow collections,
literal and folded block scalars, comments, `---` document separators.
Scalars resolve like go-yaml v2 (what sigs.k8s.io/yaml, hence kubeadm, uses):
YAML 1.1 booleans (yes/no/on/off), null/~, ints, floats. Duplicate keys are
an error, as in go-yaml. Anchors, aliases, tags and multi-line flow or quoted
scalars are not supported: they raise YAMLError rather than being misread.
"""

import json
import re


class YAMLError(ValueError):
    pass


_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_NULL = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_HEX = re.compile(r"0x[0-9a-fA-F_]+$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def resolve(s):
    """A plain scalar's value."""
    if s in _NULL:
        return None
    if s in _BOOL_TRUE:
        return True
    if s in _BOOL_FALSE:
        return False
    if _INT.match(s):
        return int(s.replace("_", ""))
    if _HEX.match(s):
        return int(s[2:].replace("_", ""), 16)
    if _FLOAT.match(s) and any(c.isdigit() for c in s):
        return float(s.replace("_", ""))
    if s in (".inf", ".Inf", "+.inf"):
        return float("inf")
    if s in ("-.inf", "-.Inf"):
        return float("-inf")
    if s in (".nan", ".NaN"):
        return float("nan")
    return s


def _json_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise YAMLError(f'duplicate field "{k}"')
        d[k] = v
    return d


def loads_json(text):
    """json.loads refusing duplicate keys (Go's strict decoder does)."""
    return json.loads(text, object_pairs_hook=_json_pairs)


def split_documents(text):
    """Documents as text, split at `---` lines; empty ones dropped."""
    docs, cur = [], []
    for line in text.splitlines():
        if re.match(r"---(\s|$)", line):
            docs.append("\n".join(cur))
            cur = []
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise YAMLError("content on a '---' line is not supported")
        elif re.match(r"\.\.\.\s*$", line):
            docs.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
    docs.append("\n".join(cur))
    return [d for d in docs if _has_content(d)]


def _has_content(doc):
    for line in doc.splitlines():
        s = line.strip()
        if s and not s.startswith("#") and s != "%YAML 1.2":
            return True
    return False


def load_all(text):
    return [load(d) for d in split_documents(text)]


def load(text):
    s = text.strip()
    if s.startswith("{") or s.startswith("["):
        try:
            return loads_json(s)
        except json.JSONDecodeError:
            pass  # flow YAML, not JSON
    return _Parser(text).parse()


def _strip_comment(s):
    """Drop a trailing comment, respecting quotes."""
    q = None
    i = 0
    while i < len(s):
        c = s[i]
        if q:
            if c == "\\" and q == '"':
                i += 2
                continue
            if c == q:
                q = None
        elif c in "\"'" and (i == 0 or s[i - 1] in " \t[{,:"):
            q = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
        i += 1
    return s.rstrip()


_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\[\]{},:-][^#:]*?|-[^\s#:][^#:]*?)\s*:(\s+|$)(.*)$""")


class _Line:
    __slots__ = ("no", "indent", "text", "raw")

    def __init__(self, no, indent, text, raw):
        self.no, self.indent, self.text, self.raw = no, indent, text, raw


class _Parser:
    def __init__(self, text):
        self.lines = []
        for no, raw in enumerate(text.splitlines(), 1):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise YAMLError(f"line {no}: found a tab character that violates indentation")
            stripped = raw.lstrip(" ")
            self.lines.append(_Line(no, len(raw) - len(stripped), _strip_comment(stripped), raw))
        self.i = 0

    def _skip_blank(self):
        while self.i < len(self.lines) and not self.lines[self.i].text:
            self.i += 1

    def _peek(self):
        self._skip_blank()
        return self.lines[self.i] if self.i < len(self.lines) else None

    def parse(self):
        line = self._peek()
        if line is None:
            return None
        v = self._node(line.indent)
        rest = self._peek()
        if rest is not None:
            raise YAMLError(f"line {rest.no}: unexpected content {rest.text!r}")
        return v

    def _node(self, indent):
        line = self._peek()
        if line is None or line.indent < indent:
            return None
        t = line.text
        if t == "-" or t.startswith("- "):
            return self._seq(line.indent)
        if _KEY.match(t) and not t.startswith(("[", "{")):
            return self._map(line.indent)
        self.i += 1
        return self._inline(t, line)

    def _map(self, indent):
        out = {}
        while True:
            line = self._peek()
            if line is None or line.indent < indent:
                return out
            if line.indent > indent:
                raise YAMLError(f"line {line.no}: bad indentation of a mapping entry")
            m = _KEY.match(line.text)
            if not m or line.text.startswith("- ") or line.text == "-":
                if line.text == "-" or line.text.startswith("- "):
                    return out  # a sequence at the parent's level
                raise YAMLError(f"line {line.no}: could not find expected ':'")
            key = self._key(m.group(1), line)
            if key in out:
                raise YAMLError(f'line {line.no}: mapping key "{key}" already defined')
            rest = m.group(3)
            self.i += 1
            if rest == "":
                nxt = self._peek()
                if nxt is not None and nxt.indent > indent:
                    out[key] = self._node(nxt.indent)
                elif nxt is not None and nxt.indent == indent and (nxt.text == "-" or nxt.text.startswith("- ")):
                    out[key] = self._seq(indent)
                else:
                    out[key] = None
            elif rest[0] in "|>":
                out[key] = self._block_scalar(rest, indent, line)
            else:
                out[key] = self._inline(rest, line)

    def _seq(self, indent):
        out = []
        while True:
            line = self._peek()
            if line is None or line.indent != indent or not (line.text == "-" or line.text.startswith("- ")):
                if line is not None and line.indent > indent:
                    raise YAMLError(f"line {line.no}: bad indentation of a sequence entry")
                return out
            rest = line.text[1:].lstrip(" ")
            if rest == "":
                self.i += 1
                nxt = self._peek()
                out.append(self._node(nxt.indent) if nxt is not None and nxt.indent > indent else None)
                continue
            # "- key: v" or "- - x": the rest is a node starting at its own column.
            col = indent + len(line.text) - len(rest)
            if rest[0] in "|>":
                self.i += 1
                out.append(self._block_scalar(rest, indent, line))
            elif rest == "-" or rest.startswith("- ") or (_KEY.match(rest) and rest[0] not in "[{"):
                self.lines[self.i] = _Line(line.no, col, rest, line.raw)
                out.append(self._node(col))
            else:
                self.i += 1
                out.append(self._inline(rest, line))

    def _key(self, k, line):
        if k.startswith('"'):
            return _dq(k, line)
        if k.startswith("'"):
            return k[1:-1].replace("''", "'")
        if k.startswith(("&", "*", "!", "?")):
            raise YAMLError(f"line {line.no}: anchors, aliases, tags and complex keys are not supported")
        return k.strip()

    def _inline(self, s, line):
        s = s.strip()
        if s.startswith(("&", "*", "!")):
            raise YAMLError(f"line {line.no}: anchors, aliases and tags are not supported")
        if s.startswith(("[", "{")):
            v, end = _Flow(s, line).value(0)
            if s[end:].strip():
                raise YAMLError(f"line {line.no}: unexpected text after a flow collection")
            return v
        if s.startswith('"'):
            if not (len(s) >= 2 and s.endswith('"') and not s.endswith('\\"')):
                raise YAMLError(f"line {line.no}: multi-line or unterminated quoted scalars are not supported")
            return _dq(s, line)
        if s.startswith("'"):
            if not (len(s) >= 2 and s.endswith("'")):
                raise YAMLError(f"line {line.no}: multi-line or unterminated quoted scalars are not supported")
            return s[1:-1].replace("''", "'")
        # A plain scalar continued on more-indented lines: folded with spaces.
        parts = [s]
        while True:
            nxt = self._peek()
            if nxt is None or nxt.indent <= line.indent or _KEY.match(nxt.text) or nxt.text.startswith("- "):
                break
            parts.append(nxt.text)
            self.i += 1
        return resolve(" ".join(parts)) if len(parts) == 1 else " ".join(parts)

    def _block_scalar(self, header, indent, line):
        m = re.fullmatch(r"([|>])([-+]?)([1-9]?)([-+]?)", header.strip())
        if not m:
            raise YAMLError(f"line {line.no}: bad block scalar header {header!r}")
        style, chomp, explicit = m.group(1), m.group(2) or m.group(4), m.group(3)
        raw = []
        while self.i < len(self.lines):
            ln = self.lines[self.i]
            if ln.raw.strip() and ln.indent <= indent:
                break
            raw.append(ln.raw)
            self.i += 1
        body_indent = None
        if explicit:
            body_indent = indent + int(explicit)
        else:
            for r in raw:
                if r.strip():
                    body_indent = len(r) - len(r.lstrip(" "))
                    break
        if body_indent is None:
            text_lines = []
        else:
            text_lines = [r[body_indent:] if len(r) >= body_indent else "" for r in raw]
        while text_lines and text_lines[-1] == "" and chomp != "+":
            text_lines.pop()
        if style == "|":
            text = "\n".join(text_lines)
        else:
            text, prev_blank = "", True
            for t in text_lines:
                if t == "":
                    text += "\n"
                    prev_blank = True
                elif t.startswith((" ", "\t")):
                    text += ("" if prev_blank else "\n") + t
                    prev_blank = False
                else:
                    text += ("" if prev_blank else " ") + t
                    prev_blank = False
        if chomp == "-" or not text_lines:
            return text
        return text + "\n"


def _dq(s, line):
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        # YAML escapes JSON lacks (\x, \e, \0...): a common subset.
        body = s[1:-1]
        try:
            return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError as e:
            raise YAMLError(f"line {line.no}: bad double-quoted scalar: {e}") from None


class _Flow:
    """Flow collections on one line: [a, b], {k: v}."""

    def __init__(self, s, line):
        self.s, self.line = s, line

    def _err(self, msg):
        raise YAMLError(f"line {self.line.no}: {msg} in flow collection")

    def _ws(self, i):
        while i < len(self.s) and self.s[i] in " \t":
            i += 1
        return i

    def value(self, i):
        i = self._ws(i)
        if i >= len(self.s):
            self._err("unexpected end")
        c = self.s[i]
        if c == "[":
            out = []
            i = self._ws(i + 1)
            if i < len(self.s) and self.s[i] == "]":
                return out, i + 1
            while True:
                v, i = self.value(i)
                out.append(v)
                i = self._ws(i)
                if i < len(self.s) and self.s[i] == ",":
                    i = self._ws(i + 1)
                    if i < len(self.s) and self.s[i] == "]":
                        return out, i + 1
                    continue
                if i < len(self.s) and self.s[i] == "]":
                    return out, i + 1
                self._err("expected ',' or ']'")
        if c == "{":
            out = {}
            i = self._ws(i + 1)
            if i < len(self.s) and self.s[i] == "}":
                return out, i + 1
            while True:
                k, i = self.value(i)
                i = self._ws(i)
                if i >= len(self.s) or self.s[i] != ":":
                    self._err("expected ':'")
                v, i = self.value(i + 1)
                if not isinstance(k, str):
                    k = str(k)
                if k in out:
                    self._err(f'duplicate key "{k}"')
                out[k] = v
                i = self._ws(i)
                if i < len(self.s) and self.s[i] == ",":
                    i = self._ws(i + 1)
                    if i < len(self.s) and self.s[i] == "}":
                        return out, i + 1
                    continue
                if i < len(self.s) and self.s[i] == "}":
                    return out, i + 1
                self._err("expected ',' or '}'")
        if c == '"':
            j = i + 1
            while j < len(self.s) and self.s[j] != '"':
                j += 2 if self.s[j] == "\\" else 1
            if j >= len(self.s):
                self._err("unterminated string")
            return _dq(self.s[i : j + 1], self.line), j + 1
        if c == "'":
            j = i + 1
            while True:
                j = self.s.find("'", j)
                if j < 0:
                    self._err("unterminated string")
                if j + 1 < len(self.s) and self.s[j + 1] == "'":
                    j += 2
                    continue
                break
            return self.s[i + 1 : j].replace("''", "'"), j + 1
        j = i
        while j < len(self.s) and self.s[j] not in ",]}" and not (self.s[j] == ":" and (j + 1 >= len(self.s) or self.s[j + 1] in " ,]}")):
            j += 1
        return resolve(self.s[i:j].strip()), j


# -- emitting ----------------------------------------------------------------

_PLAIN_OK = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./@+=-]*( [A-Za-z0-9_./@+=-]+)*$")


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if _PLAIN_OK.match(s) and resolve(s) == s and not s.startswith(("-", "?")) and ": " not in s:
        return s
    return json.dumps(s)


def dump(obj, indent=0):
    """YAML with sorted keys, as sigs.k8s.io/yaml writes Go objects."""
    return "".join(_dump(obj, indent))


def _dump(obj, ind):
    pad = " " * ind
    if isinstance(obj, dict):
        if not obj:
            yield pad + "{}\n"
            return
        for k in sorted(obj):
            v = obj[k]
            key = _scalar(k)
            if isinstance(v, dict) and v:
                yield f"{pad}{key}:\n"
                yield from _dump(v, ind + 2)
            elif isinstance(v, list) and v:
                yield f"{pad}{key}:\n"
                yield from _dump(v, ind)
            elif isinstance(v, dict):
                yield f"{pad}{key}: {{}}\n"
            elif isinstance(v, list):
                yield f"{pad}{key}: []\n"
            else:
                yield f"{pad}{key}: {_scalar(v)}\n"
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                lines = "".join(_dump(v, ind + 2))
                yield f"{pad}- {lines[ind + 2:]}"
            elif isinstance(v, dict):
                yield f"{pad}- {{}}\n"
            elif isinstance(v, list):
                yield f"{pad}- []\n"
            else:
                yield f"{pad}- {_scalar(v)}\n"
    else:
        yield pad + _scalar(obj) + "\n"

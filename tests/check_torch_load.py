#!/usr/bin/env python3
# check_torch_load.py — stdlib-only stand-in for `torch.load(f, weights_only=True)`, used by the
# tests where no torch is installed. It opens a .pth the way torch's PyTorchStreamReader does
# (one top folder, `version`, `data.pkl`, `data/<key>` records, CRC checked by zipfile) and
# unpickles data.pkl with an emulation of torch's weights-only unpickler: only the opcodes and
# globals on torch's allow-list are accepted, persistent ids must be
# ('storage', torch.<T>Storage, key, location, numel). Prints one JSON line per tensor:
#   {"name", "dtype", "shape", "stride", "offset", "numel", "sum"}  (sum in float64 of the values)
# Exit 0 on success; on a rejected file prints "REJECTED: <why>" and exits 1.
import json
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

STORAGES = {  # class name -> (struct code, itemsize, dtype name)
    "FloatStorage": ("f", 4, "fp32"), "DoubleStorage": ("d", 8, "fp64"),
    "HalfStorage": ("e", 2, "fp16"), "BFloat16Storage": ("bf16", 2, "bf16"),
    "LongStorage": ("q", 8, "int64"), "IntStorage": ("i", 4, "int32"),
    "ShortStorage": ("h", 2, "int16"), "CharStorage": ("b", 1, "int8"),
    "ByteStorage": ("B", 1, "uint8"), "BoolStorage": ("?", 1, "bool"),
}
ALLOWED = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
           ("torch._utils", "_rebuild_parameter"), ("torch", "Size")}
ALLOWED |= {("torch", s) for s in STORAGES}
# Opcodes torch's _weights_only_unpickler.Unpickler.load handles (protocol <= 4 subset).
OPCODES = set(b"\x80}]).(tqrh j\x94\x85\x86\x87RbQPsuaeXV\x8cJKM\x8aG\x88\x89N.\x95cB")


class StorageRef:
    def __init__(self, cls, key, location, numel):
        self.cls, self.key, self.location, self.numel = cls, key, location, numel


class TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, *meta):
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("_rebuild_tensor_v2 without a storage")
    return TensorRef(storage, offset, tuple(size), tuple(stride))


class WeightsOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"unsupported global {module}.{name}")
        if module == "collections":
            return OrderedDict
        if name == "_rebuild_tensor_v2":
            return rebuild_tensor_v2
        if name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks: data
        if name == "Size":
            return tuple
        return ("storage-class", name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"bad persistent id {pid!r}")
        _, cls, key, location, numel = pid
        if not (isinstance(cls, tuple) and cls[0] == "storage-class"):
            raise pickle.UnpicklingError(f"bad storage type {cls!r}")
        if not isinstance(key, str) or not isinstance(location, str) or not isinstance(numel, int):
            raise pickle.UnpicklingError(f"bad persistent id {pid!r}")
        return StorageRef(cls[1], key, location, numel)


def check_opcodes(pkl):
    import pickletools
    for op, arg, pos in pickletools.genops(pkl):
        if op.code.encode("latin-1")[0] not in OPCODES:
            raise pickle.UnpicklingError(f"unsupported opcode {op.name} at {pos}")
        if op.name == "PROTO" and arg > 4:
            raise pickle.UnpicklingError(f"protocol {arg}")


def bf16_values(raw):
    n = len(raw) // 2
    wide = bytearray(4 * n)  # bf16 is the high half of an fp32
    wide[2::4] = raw[0::2]
    wide[3::4] = raw[1::2]
    return struct.unpack(f"<{n}f", bytes(wide))


def main(path):
    z = zipfile.ZipFile(path)
    names = z.namelist()
    top = names[0].split("/")[0]
    if any(not n.startswith(top + "/") for n in names):
        raise ValueError("records under more than one top folder")
    for n in names:
        if z.getinfo(n).compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"record {n} is compressed")
    version = z.read(f"{top}/version").decode().strip()
    if not version.isdigit() or int(version) > 10:
        raise ValueError(f"bad version {version!r}")
    if f"{top}/byteorder" in names and z.read(f"{top}/byteorder") != b"little":
        raise ValueError("byteorder is not little")
    pkl = z.read(f"{top}/data.pkl")
    check_opcodes(pkl)
    import io
    obj = WeightsOnlyUnpickler(io.BytesIO(pkl)).load()
    if not isinstance(obj, dict):
        raise ValueError("top-level object is not a dict")
    for name, t in obj.items():
        if not isinstance(t, TensorRef):
            raise ValueError(f"{name} is not a tensor")
        code, isz, dt = STORAGES[t.storage.cls]
        raw = z.read(f"{top}/data/{t.storage.key}")  # zipfile checks the CRC
        if len(raw) != t.storage.numel * isz:
            raise ValueError(f"{name}: record size {len(raw)} != numel {t.storage.numel} * {isz}")
        numel = 1
        for s in t.size:
            numel *= s
        extent = t.offset + sum((s - 1) * st for s, st in zip(t.size, t.stride)) + 1 if numel else 0
        if extent > t.storage.numel:
            raise ValueError(f"{name}: view exceeds storage")
        exp, c = [], 1
        for s in reversed(t.size):
            exp.insert(0, c)
            c *= s
        if numel and tuple(exp) != t.stride:
            raise ValueError(f"{name}: non-contiguous stride {t.stride}")
        seg = raw[t.offset * isz:(t.offset + numel) * isz]
        vals = bf16_values(seg) if code == "bf16" else struct.unpack(f"<{numel}{code}", seg)
        print(json.dumps({"name": name, "dtype": dt, "shape": list(t.size), "stride": list(t.stride),
                          "offset": t.offset, "numel": numel, "sum": float(sum(vals, 0.0))}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001 — any failure is a rejection
        print(f"REJECTED: {type(e).__name__}: {e}")
        sys.exit(1)

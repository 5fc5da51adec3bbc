// test_pth_python.cpp — .pth files written by someone else: Python's own pickle (protocol 2 and
// 4: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL) and zipfile (no 64-byte alignment, so
// records are copied rather than mapped when misaligned), with stand-ins for torch's classes.
#include <fmt/format.h>

#include <fstream>

#include "io/model_file.h"
#include "test_pth_util.h"
#include "test_util.h"

using namespace rwkv;
using namespace rwkv::test;

static const char* kWriter = R"PY(
import pickle, struct, sys, types, zipfile
from collections import OrderedDict
torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage: pass
class LongStorage: pass
for c in (FloatStorage, LongStorage): c.__module__ = "torch"; setattr(torch, c.__name__, c)
class Storage:
    def __init__(s, cls, key, numel): s.cls, s.key, s.numel = cls, key, numel
class T:
    def __init__(s, st, off, size, stride): s.a = (st, off, size, stride, False, OrderedDict())
    def __reduce__(s): return (_rebuild_tensor_v2, s.a)
class P(pickle.Pickler):
    def persistent_id(s, o):
        return ("storage", o.cls, o.key, "cpu", o.numel) if isinstance(o, Storage) else None
out, proto = sys.argv[1], int(sys.argv[2])
s0, s1 = Storage(FloatStorage, "0", 6), Storage(LongStorage, "1", 3)
sd = OrderedDict([("_forward_module.emb.weight", T(s0, 0, (2, 3), (3, 1))),
                  ("tail", T(s0, 4, (2,), (1,))), ("ids", T(s1, 0, (3,), (1,)))])
import io
b = io.BytesIO(); P(b, protocol=proto).dump(sd)
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    z.writestr("m/data.pkl", b.getvalue())
    z.writestr("m/x", b"12345")  # pushes the next records off any alignment
    z.writestr("m/data/0", struct.pack("<6f", 0.5, 1.5, 2.5, 3.5, 4.5, 5.5))
    z.writestr("m/data/1", struct.pack("<3q", 1, -2, 1 << 40))
    z.writestr("m/version", b"3\n")
)PY";

TEST(PthPython, ProtocolTwoAndFourFromPythonZipfile) {
  TempDir tmp;
  { std::ofstream(tmp / "w.py") << kWriter; }
  for (int proto : {2, 4}) {
    SCOPED_TRACE(proto);
    std::string out = tmp / fmt::format("p{}.pth", proto);
    ASSERT_EQ(std::system((python_exe() + " " + tmp / "w.py " + out + " " + std::to_string(proto)).c_str()), 0);
    StateDict sd = load_pth(out);
    ASSERT_EQ(sd.size(), 3u);
    EXPECT_EQ(sd.items[0].first, "emb.weight");
    EXPECT_EQ(sd.items[0].second.shape, (Shape{2, 3}));
    EXPECT_EQ(sd.items[0].second.to_f32_vec(), (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}));
    EXPECT_EQ(sd.at("tail").to_f32_vec(), (std::vector<float>{4.5f, 5.5f}));  // offset 4 in the shared storage
    EXPECT_EQ(sd.at("ids").dtype, DType::I64);
    EXPECT_EQ(sd.at("ids").ptr<int64_t>()[2], int64_t(1) << 40);
    EXPECT_EQ(sd.at("ids").ptr<int64_t>()[1], -2);
    for (auto& [k, t] : sd.items) EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % dtype_size(t.dtype), 0u) << k;
  }
}

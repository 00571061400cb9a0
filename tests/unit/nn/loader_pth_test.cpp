// The .pth reader and its safe pickle machine: real torch.save archives, wrappers, and refusal of
// hostile pickles and broken archives without executing anything.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "loader_test_support.hpp"
#include "nn/pth/pickle_vm.hpp"
#include "nn/pth/pth_reader.hpp"
#include "nn/safetensors/safetensors_reader.hpp"

namespace comfydist::nn {
namespace {

using loader_test::fixture;
using namespace std::string_literals;

std::string pth_message(const std::filesystem::path& path) {
  try {
    read_pth(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

std::string pickle_message(const std::string& pickle) {
  try {
    pth::run_pickle(pickle, "test.pth");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

void expect_same(const state_dict& a, const state_dict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, tensor] : a) {
    ASSERT_TRUE(b.contains(key)) << key;
    EXPECT_EQ(tensor.shape, b.at(key).shape) << key;
    EXPECT_EQ(tensor.values, b.at(key).values) << key;
  }
}

TEST(LoaderPth, OrderedDictStateDictMatchesSafetensors) {
  // state_dict() is an OrderedDict whose _metadata arrives through BUILD.
  expect_same(read_pth(fixture("rrdb_new_x4.pth")),
              read_safetensors(fixture("rrdb_new_x4.safetensors")));
}

TEST(LoaderPth, UnwrapsParamsEma) {
  // {"params_ema": state, "params": {}}: params_ema wins.
  expect_same(read_pth(fixture("compact_x4.pth")),
              read_safetensors(fixture("compact_x4.safetensors")));
}

TEST(LoaderPth, ReadsHalfStorages) {
  const state_dict sd = read_pth(fixture("rrdb_old_x4.pth"));
  EXPECT_EQ(sd.at("model.0.weight").shape, (std::vector<std::int64_t>{8, 3, 3, 3}));
  EXPECT_EQ(sd.at("model.1.sub.0.RDB1.conv1.0.weight").shape,
            (std::vector<std::int64_t>{4, 8, 3, 3}));
}

TEST(LoaderPth, ReadsZip64Archives) {
  // Every size and offset in zip64 fields, as torch writes archives past 4 GiB.
  const state_dict sd = read_pth(fixture("zip64.pth"));
  ASSERT_EQ(sd.size(), 1U);
  EXPECT_EQ(sd.at("w").shape, (std::vector<std::int64_t>{100}));
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(sd.at("w").values.at(i), static_cast<float>(i));
  }
}

TEST(LoaderPth, RefusesOsSystemWithoutRunningIt) {
  const std::filesystem::path marker = "/tmp/pwn";
  const bool existed = std::filesystem::exists(marker);
  EXPECT_EQ(pth_message(fixture("malicious_os_system.pth")),
            "refusing to load 'malicious_os_system.pth': the pickle asks for os.system, which is "
            "not part of a plain state dict; nothing was executed");
  if (!existed) {
    EXPECT_FALSE(std::filesystem::exists(marker));
  }
}

TEST(LoaderPth, RefusesOtherGlobals) {
  // GLOBAL builtins.eval, STACK_GLOBAL of torch.storage._load_from_bytes.
  EXPECT_NE(pickle_message("\x80\x02"
                           "cbuiltins\neval\n."s)
                .find("asks for builtins.eval"),
            std::string::npos);
  const std::string stack_global = "\x80\x04\x8c\x0dtorch.storage\x8c\x10_load_from_bytes\x93."s;
  EXPECT_NE(pickle_message(stack_global).find("asks for torch.storage._load_from_bytes"),
            std::string::npos);
}

TEST(LoaderPth, RefusesMalformedPickles) {
  EXPECT_NE(pickle_message("\x80\x02t."s).find("no MARK"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02\x85."s).find("underflow"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02h\x05."s).find("memo key 5"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02}"s).find("without STOP"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02X\xff\xff\xff\x7f."s).find("past the end"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02i."s).find("opcode 0x69"), std::string::npos);
  // REDUCE of a non-callable; APPEND onto a dict.
  EXPECT_NE(pickle_message("\x80\x02K\x01)R."s).find("not a whitelisted"), std::string::npos);
  EXPECT_NE(pickle_message("\x80\x02}K\x01"
                           "a."s)
                .find("wrong type"),
            std::string::npos);
  // A persistent id that is not torch's storage tuple.
  EXPECT_NE(pickle_message("\x80\x02K\x01Q."s).find("persistent id"), std::string::npos);
}

TEST(LoaderPth, LimitsStackDepth) {
  std::string pickle = "\x80\x02"s;
  pickle += std::string((1 << 20) + 1, 'N');  // one more None than the stack holds
  pickle += '.';
  EXPECT_NE(pickle_message(pickle).find("stack too deep"), std::string::npos);
}

TEST(LoaderPth, BuildsTensorsFromTheirPickle) {
  // {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 6), 1, (2, 2), (1, 2), ...)}
  const std::string pickle =
      "\x80\x02}X\x01\x00\x00\x00w"
      "ctorch._utils\n_rebuild_tensor_v2\n"
      "((X\x07\x00\x00\x00"
      "storage"
      "ctorch\nFloatStorage\n"
      "X\x01\x00\x00\x00"
      "0"
      "X\x03\x00\x00\x00"
      "cpu"
      "K\x06tQ"
      "K\x01K\x02K\x02\x86K\x01K\x02\x86\x89"
      "ccollections\nOrderedDict\n)RtRs."s;
  const pth::pickle_result result = pth::run_pickle(pickle, "test.pth");
  const pth::py_value* w = result.dict_get(result.at(result.root), "w");
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(w->type, pth::py_type::tensor);
  const pth::tensor_ref& t = result.tensors.at(static_cast<std::size_t>(w->integer));
  EXPECT_EQ(t.offset, 1);
  EXPECT_EQ(t.size, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(t.stride, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(result.storages.at(t.storage).numel, 6U);
  EXPECT_EQ(result.storages.at(t.storage).key, "0");
}

TEST(LoaderPth, RefusesBrokenArchives) {
  const std::string truncated = pth_message(fixture("truncated.pth"));
  EXPECT_NE(truncated.find("truncated"), std::string::npos) << truncated;
  const std::string compressed = pth_message(fixture("compressed.pth"));
  EXPECT_NE(compressed.find("is compressed"), std::string::npos) << compressed;
  const std::string short_storage = pth_message(fixture("short_storage.pth"));
  EXPECT_NE(short_storage.find("claims 100 elements but holds only 16 bytes"), std::string::npos)
      << short_storage;
}

TEST(LoaderPth, RefusesLegacyAndForeignFiles) {
  const auto legacy = std::filesystem::path(testing::TempDir()) / "legacy.pth";
  std::ofstream(legacy, std::ios::binary)
      << "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";
  EXPECT_NE(pth_message(legacy).find("legacy (non-zip) .pth files are not supported; re-save with "
                                     "torch.save(..., _use_new_zipfile_serialization=True)"),
            std::string::npos);
  const auto text = std::filesystem::path(testing::TempDir()) / "text.pth";
  std::ofstream(text) << "hello";
  EXPECT_NE(pth_message(text).find("not a PyTorch checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace comfydist::nn

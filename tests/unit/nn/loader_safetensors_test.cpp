// The .safetensors reader: dtypes, and refusal of truncated or hostile headers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "loader_test_support.hpp"
#include "nn/checkpoint/stored_tensor.hpp"
#include "nn/pth/pth_reader.hpp"
#include "nn/safetensors/safetensors_reader.hpp"

namespace comfydist::nn {
namespace {

using loader_test::fixture;

// A safetensors file from a header text and data bytes, in the test's temp dir.
std::filesystem::path write_safetensors(const std::string& name, const std::string& header,
                                        const std::string& data, std::uint64_t length_field = 0) {
  const auto path = std::filesystem::path(testing::TempDir()) / name;
  std::ofstream out(path, std::ios::binary);
  std::uint64_t length = length_field != 0 ? length_field : header.size();
  for (int i = 0; i < 8; ++i) {
    out.put(static_cast<char>(length & 0xFF));
    length >>= 8;
  }
  out << header << data;
  return path;
}

std::string message_of(const std::filesystem::path& path) {
  try {
    read_safetensors(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(LoaderSafetensors, ReadsFloat32Tensors) {
  const state_dict sd = read_safetensors(fixture("compact_x4.safetensors"));
  // body.0, 2, 4, 6, 8, 10 are convs (weight + bias), body.1 ... 9 PReLUs (weight).
  ASSERT_EQ(sd.size(), 17U);
  EXPECT_EQ(sd.at("body.0.weight").shape, (std::vector<std::int64_t>{8, 3, 3, 3}));
  EXPECT_EQ(sd.at("body.0.weight").values.size(), 216U);
  EXPECT_EQ(sd.at("body.10.weight").shape, (std::vector<std::int64_t>{48, 8, 3, 3}));
  EXPECT_EQ(sd.at("body.1.weight").shape, (std::vector<std::int64_t>{8}));
}

TEST(LoaderSafetensors, HalfAndBfloat16MatchTheFloatPth) {
  // The fixtures' weights were rounded to f16 / bf16 before saving, so conversion is exact.
  for (const char* stem : {"rrdb_old_x4", "compact_x2"}) {
    const state_dict st = read_safetensors(fixture(std::string(stem) + ".safetensors"));
    const state_dict pt = read_pth(fixture(std::string(stem) + ".pth"));
    ASSERT_EQ(st.size(), pt.size()) << stem;
    for (const auto& [key, tensor] : st) {
      ASSERT_TRUE(pt.contains(key)) << key;
      EXPECT_EQ(tensor.shape, pt.at(key).shape) << key;
      EXPECT_EQ(tensor.values, pt.at(key).values) << key;
    }
  }
}

TEST(LoaderSafetensors, HalfConversion) {
  EXPECT_EQ(checkpoint::half_to_float(0x3C00), 1.0F);
  EXPECT_EQ(checkpoint::half_to_float(0xC000), -2.0F);
  EXPECT_EQ(checkpoint::half_to_float(0x0001), 5.9604645e-8F);  // smallest subnormal
  EXPECT_EQ(checkpoint::half_to_float(0x7BFF), 65504.0F);
  EXPECT_TRUE(std::isinf(checkpoint::half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(checkpoint::half_to_float(0x7E00)));
  EXPECT_EQ(checkpoint::bfloat16_to_float(0x3F80), 1.0F);
}

TEST(LoaderSafetensors, ConvertsFloat64AndSkipsMetadata) {
  std::string data(16, '\0');
  const double values[2] = {0.5, -3.25};
  std::memcpy(data.data(), values, 16);
  const auto path = write_safetensors(
      "f64.safetensors",
      R"({"__metadata__":{"a":"b"},"t":{"dtype":"F64","shape":[2,1],"data_offsets":[0,16]}})",
      data);
  const state_dict sd = read_safetensors(path);
  ASSERT_EQ(sd.size(), 1U);
  EXPECT_EQ(sd.at("t").shape, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(sd.at("t").values, (std::vector<float>{0.5F, -3.25F}));
}

TEST(LoaderSafetensors, RefusesTruncatedFile) {
  const std::string message = message_of(fixture("truncated.safetensors"));
  EXPECT_NE(message.find("outside"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated.safetensors"), std::string::npos) << message;
}

TEST(LoaderSafetensors, RefusesHostileHeaders) {
  const std::string ok = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  struct hostile {
    const char* name;
    std::string header;
    std::string data;
    std::uint64_t length_field;
    const char* expect;
  };
  const hostile cases[] = {
      {"huge_length", "{}", "", 1ULL << 40, "exceeds the limit"},
      {"past_end", "{}", "", 1000, "past the end"},
      {"not_json", "{\"t\": [", "", 0, "not valid JSON"},
      {"not_object", "[1, 2]", "", 0, "not a JSON object"},
      {"bad_dtype", R"({"t":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", std::string(8, 0),
       0, "unsupported dtype 'C64'"},
      {"negative_dim", R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
       std::string(4, 0), 0, "non-negative"},
      {"offsets_outside", "{" + ok + "}", std::string(4, 0), 0, "outside"},
      {"reversed_offsets", R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
       std::string(8, 0), 0, "outside"},
      {"size_mismatch", R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
       std::string(8, 0), 0, "need 12"},
      {"overflow", R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
       std::string(8, 0), 0, "overflows"},
      {"missing_fields", R"({"t":{"dtype":"F32"}})", "", 0, "needs a string dtype"},
  };
  for (const auto& c : cases) {
    const auto path =
        write_safetensors(std::string(c.name) + ".safetensors", c.header, c.data, c.length_field);
    const std::string message = message_of(path);
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.name << ": " << message;
  }
  const auto tiny = std::filesystem::path(testing::TempDir()) / "tiny.safetensors";
  std::ofstream(tiny) << "abc";
  EXPECT_NE(message_of(tiny).find("too short"), std::string::npos);
}

}  // namespace
}  // namespace comfydist::nn

// The merged catalog of the workers' node classes (validation against it, the master's own
// LoadImage) and the per-worker pre-flight check, including garbage object_info answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/uuid.hpp"
#include "engine/prompt_validator.hpp"
#include "master/node_catalog.hpp"
#include "nodes/builtin_nodes.hpp"

namespace comfydist::master {
namespace {

namespace fs = std::filesystem;

// Worker A: V3 combos, an A-only class, and a LoadImage listing a file only it has.
const json kWorkerA = json::parse(R"({
  "UpscaleModelLoader": {
    "input": {"required": {"model_name": ["COMBO", {"multiselect": false, "options": ["a.pth", "b.pth"]}]}},
    "input_order": {"required": ["model_name"]},
    "output": ["UPSCALE_MODEL"], "name": "UpscaleModelLoader", "output_node": false},
  "ImageUpscaleWithModel": {
    "input": {"required": {"upscale_model": ["UPSCALE_MODEL", {}], "image": ["IMAGE", {}]}},
    "output": ["IMAGE"], "name": "ImageUpscaleWithModel", "output_node": false},
  "ImageScale": {
    "input": {"required": {"image": ["IMAGE", {}],
                           "upscale_method": [["nearest-exact", "area"], {}],
                           "crop": [["disabled"], {}]}},
    "output": ["IMAGE"], "name": "ImageScale", "output_node": false},
  "LoadImage": {
    "input": {"required": {"image": [["only_on_worker.png"], {"image_upload": true}]}},
    "output": ["IMAGE", "MASK"], "name": "LoadImage", "output_node": false},
  "PreviewImage": {
    "input": {"required": {"images": ["IMAGE", {}]}},
    "output": [], "name": "PreviewImage", "output_node": true}
})");

// Worker B: V1 combos, more options, an extra input, a B-only class.
const json kWorkerB = json::parse(R"({
  "ImageScale": {
    "input": {"required": {"image": ["IMAGE", {}],
                           "upscale_method": [["bilinear", "nearest-exact"], {}],
                           "crop": ["COMBO", {"options": ["disabled", "center"]}]}},
    "output": ["IMAGE"], "name": "ImageScale", "output_node": false},
  "UpscaleModelLoader": {
    "input": {"required": {"model_name": [["b.pth", "c.pth"], {}],
                           "device": [["cpu", "gpu"], {}]}},
    "input_order": {"required": ["model_name", "device"]},
    "output": ["UPSCALE_MODEL"], "name": "UpscaleModelLoader", "output_node": false},
  "ImageSharpen": {
    "input": {"required": {"image": ["IMAGE", {}]}},
    "output": ["IMAGE"], "name": "ImageSharpen", "output_node": false}
})");

engine::node_definition distributed_seed() {
  engine::node_definition definition;
  definition.info = json::parse(R"({
    "input": {"required": {"seed": ["INT", {"default": 0, "min": 0, "max": 100}]}},
    "output": ["INT"], "name": "DistributedSeed", "output_node": false})");
  return definition;
}

class NodeCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nodes::register_builtin_nodes(master_);
    master_.add(distributed_seed());
    dir_ = fs::temp_directory_path() / ("cd-catalog-" + make_uuid4_hex());
    environment_.input_dir = dir_ / "input";
    environment_.output_dir = dir_ / "output";
    environment_.temp_dir = dir_ / "temp";
    for (const auto& d : {environment_.input_dir, environment_.output_dir, environment_.temp_dir}) {
      fs::create_directories(d);
    }
    // Validation only looks at the name; the content is never decoded.
    std::ofstream(environment_.input_dir / "present.png") << "png";
  }
  void TearDown() override { fs::remove_all(dir_); }

  node_catalog two_workers() const {
    return node_catalog(master_, {"DistributedSeed"}, {{"a", "A", kWorkerA}, {"b", "B", kWorkerB}});
  }

  engine::validation_result validate(const node_catalog& catalog, json prompt) const {
    return engine::validate_prompt(prompt, std::nullopt, catalog.registry(), environment_);
  }

  engine::node_registry master_;
  engine::node_environment environment_;
  fs::path dir_;
};

// LoadImage → upscale with `model` → PreviewImage.
json upscale_prompt(const std::string& image, const std::string& model) {
  json prompt = json::parse(R"({
    "1": {"class_type": "LoadImage", "inputs": {}},
    "2": {"class_type": "UpscaleModelLoader", "inputs": {}},
    "3": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]}},
    "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
  })");
  prompt["1"]["inputs"]["image"] = image;
  prompt["2"]["inputs"]["model_name"] = model;
  return prompt;
}

TEST_F(NodeCatalogTest, OffersTheUnionOfTheWorkersClassesAndTheMasterOnlyOnes) {
  const node_catalog catalog = two_workers();
  std::vector<std::string> names;
  for (const auto& [name, definition] : catalog.registry().all()) {
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"DistributedSeed", "ImageScale", "ImageSharpen",
                                             "ImageUpscaleWithModel", "LoadImage", "PreviewImage",
                                             "UpscaleModelLoader"}));
  // Classes only the master has (EmptyImage) are not offered: no worker could run them.
  EXPECT_EQ(catalog.registry().find("EmptyImage"), nullptr);
  // Worker classes are validated, never run, on the master.
  EXPECT_FALSE(catalog.registry().find("ImageSharpen")->create);
  EXPECT_TRUE(catalog.registry().find("LoadImage")->create);
}

TEST_F(NodeCatalogTest, MergesComboOptionsInFirstSeenOrderInEitherForm) {
  const json info = two_workers().object_info(environment_);
  EXPECT_EQ(
      info["UpscaleModelLoader"]["input"]["required"]["model_name"],
      json::parse(R"(["COMBO", {"multiselect": false, "options": ["a.pth", "b.pth", "c.pth"]}])"));
  EXPECT_EQ(info["ImageScale"]["input"]["required"]["upscale_method"],
            json::parse(R"([["nearest-exact", "area", "bilinear"], {}])"));
  // A V3 list folded into a V1 entry keeps the first worker's form.
  EXPECT_EQ(info["ImageScale"]["input"]["required"]["crop"],
            json::parse(R"([["disabled", "center"], {}])"));
  // An input only B declares is optional: A runs the class without it.
  EXPECT_EQ(info["UpscaleModelLoader"]["input"]["optional"]["device"],
            json::parse(R"([["cpu", "gpu"], {}])"));
  EXPECT_FALSE(info["UpscaleModelLoader"]["input"]["required"].contains("device"));
  EXPECT_EQ(info["UpscaleModelLoader"]["input_order"]["optional"], json::parse(R"(["device"])"));
}

TEST_F(NodeCatalogTest, ValidatesAComboValueOnlyTheSecondWorkerHas) {
  const node_catalog catalog = two_workers();
  const auto ok = validate(catalog, upscale_prompt("present.png", "c.pth"));
  EXPECT_TRUE(ok.ok) << ok.node_errors.dump();
  const auto bad = validate(catalog, upscale_prompt("present.png", "d.pth"));
  ASSERT_FALSE(bad.ok);
  EXPECT_EQ(bad.node_errors["2"]["errors"][0]["type"], "value_not_in_list");
  EXPECT_EQ(bad.node_errors["2"]["errors"][0]["details"],
            "model_name: 'd.pth' not in ['a.pth', 'b.pth', 'c.pth']");
}

TEST_F(NodeCatalogTest, RefusesAClassNoWorkerOffersAsComfyUIDoes) {
  const auto result =
      validate(two_workers(), json::parse(R"({"1": {"class_type": "NoSuchNode", "inputs": {}}})"));
  ASSERT_FALSE(result.ok);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->type, "missing_node_type");
  EXPECT_EQ(result.error->message,
            "Node 'NoSuchNode' not found. The custom node may not be installed.");
  EXPECT_EQ(result.error->details, "Node ID '#1'");
}

TEST_F(NodeCatalogTest, LoadImageChecksTheMastersInputFolder) {
  const node_catalog catalog = two_workers();
  // The file the worker lists but the master lacks is refused: the master uploads its own files.
  const auto result = validate(catalog, upscale_prompt("only_on_worker.png", "a.pth"));
  ASSERT_FALSE(result.ok);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->type, "prompt_outputs_failed_validation");
  const json& error = result.node_errors["1"]["errors"][0];
  EXPECT_EQ(error["type"], "custom_validation_failed");
  EXPECT_EQ(error["message"], "Custom validation failed for node");
  EXPECT_EQ(error["details"], "image - Invalid image file: only_on_worker.png");
  // The served list is the master's folder.
  EXPECT_EQ(catalog.object_info(environment_)["LoadImage"]["input"]["required"]["image"][0],
            json::parse(R"(["present.png"])"));
}

TEST_F(NodeCatalogTest, MasterOnlyClassesUseTheMastersDefinition) {
  json worker = kWorkerA;
  worker["DistributedSeed"] = json::parse(R"({"input": {}, "output": ["STRING"]})");
  const node_catalog catalog(master_, {"DistributedSeed"}, {{"a", "A", worker}});
  EXPECT_EQ(catalog.registry().find("DistributedSeed")->info["output"], json::parse(R"(["INT"])"));
  EXPECT_THROW(node_catalog(master_, {"NotOnTheMaster"}, {}), std::invalid_argument);
}

TEST_F(NodeCatalogTest, SkipsOrRepairsMalformedWorkerEntries) {
  const json garbage = json::parse(R"({
    "Bad": 5,
    "Weird": {"name": 7, "input": {"required": "x", "optional": {"n": 3}}, "output": [1, "IMAGE"],
              "output_node": "yes"}
  })");
  const node_catalog catalog(master_, {},
                             {{"c", "C", json::array({1, 2})},
                              {"d", "D", json(42)},
                              {"e", "E", garbage},
                              {"a", "A", kWorkerA}});
  EXPECT_EQ(catalog.registry().find("Bad"), nullptr);
  ASSERT_NE(catalog.registry().find("Weird"), nullptr);
  // Slot 1 of Weird is an IMAGE; slot 0 kept its place as a wildcard.
  const auto result = validate(catalog, json::parse(R"({
    "1": {"class_type": "Weird", "inputs": {"n": 1}},
    "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 1]}},
    "3": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
  })"));
  EXPECT_TRUE(result.ok) << result.node_errors.dump();
  EXPECT_NO_THROW(catalog.object_info(environment_));
}

TEST(Preflight, NamesAMissingClassOnce) {
  json prompt = upscale_prompt("x.png", "b.pth");
  prompt["5"] = prompt["3"];
  EXPECT_EQ(preflight(prompt, kWorkerB),
            (std::vector<std::string>{"no node LoadImage", "no node ImageUpscaleWithModel",
                                      "no node PreviewImage"}));
  EXPECT_EQ(preflight(upscale_prompt("x.png", "b.pth"), kWorkerA), std::vector<std::string>{});
}

TEST(Preflight, NamesAMissingComboValueInEitherForm) {
  EXPECT_EQ(
      preflight(upscale_prompt("x.png", "c.pth"), kWorkerA),
      std::vector<std::string>{"UpscaleModelLoader.model_name: no 'c.pth' (has: a.pth, b.pth)"});
  const json scale = json::parse(R"({"1": {"class_type": "ImageScale",
    "inputs": {"image": ["9", 0], "upscale_method": "lanczos", "crop": {"__value__": "center"}}}})");
  EXPECT_EQ(preflight(scale, kWorkerA),
            (std::vector<std::string>{
                "ImageScale.upscale_method: no 'lanczos' (has: nearest-exact, area)",
                "ImageScale.crop: no 'center' (has: disabled)"}));
}

TEST(Preflight, ListsAFewOptionsAndComparesNumbersAsPython) {
  const json info = json::parse(R"({"Pick": {"input": {"required": {
    "name": [["o1", "o2", "o3", "o4", "o5", "o6", "o7"], {}],
    "level": ["COMBO", {"options": [1, 2]}],
    "none": [[], {}]}}}})");
  const json prompt = json::parse(
      R"({"1": {"class_type": "Pick", "inputs": {"name": "o9", "level": 2.0, "none": "x"}}})");
  EXPECT_EQ(preflight(prompt, info),
            (std::vector<std::string>{"Pick.name: no 'o9' (has: o1, o2, o3, o4, o5 and 2 more)",
                                      "Pick.none: no 'x' (has: none)"}));
}

TEST(Preflight, IgnoresLinksUnknownInputsAndUploadedImages) {
  const json prompt = json::parse(R"({
    "1": {"class_type": "LoadImage", "inputs": {"image": "not_on_the_worker.png"}},
    "2": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": ["7", 0], "extra": "zzz"}}
  })");
  EXPECT_EQ(preflight(prompt, kWorkerA), std::vector<std::string>{});
}

TEST(Preflight, TreatsGarbageObjectInfoAsOfferingNothing) {
  const json prompt = upscale_prompt("x.png", "a.pth");
  const std::vector<std::string> all_missing{"no node LoadImage", "no node UpscaleModelLoader",
                                             "no node ImageUpscaleWithModel",
                                             "no node PreviewImage"};
  EXPECT_EQ(preflight(prompt, json::array({1, 2, 3})), all_missing);
  EXPECT_EQ(preflight(prompt, json(42)), all_missing);
  EXPECT_EQ(preflight(prompt, json::parse(R"({"LoadImage": 1, "UpscaleModelLoader": [],
    "ImageUpscaleWithModel": "x", "PreviewImage": null})")),
            all_missing);
  // Present classes with broken schemas: nothing to check, nothing thrown.
  const json broken = json::parse(R"({"UpscaleModelLoader": {"input": {"required": 5}},
    "LoadImage": {"input": 3}, "ImageUpscaleWithModel": {},
    "PreviewImage": {"input": {"required": {"images": 1}}}})");
  EXPECT_EQ(preflight(prompt, broken), std::vector<std::string>{});
  // A malformed prompt is validation's business: nothing to report here.
  EXPECT_EQ(preflight(json::array({1}), kWorkerA), std::vector<std::string>{});
  EXPECT_EQ(preflight(json::parse(R"({"1": 3, "2": {"class_type": 4}})"), kWorkerA),
            std::vector<std::string>{});
}

// A stock ComfyUI v0.26 (558 classes): the catalog takes it whole, validates the prompts captured
// against it, and pre-flight finds nothing missing for them.
TEST_F(NodeCatalogTest, TakesARealComfyUIObjectInfo) {
  const fs::path captures = fs::path(COMFYDIST_SHARED_DIR) / "reference" / "comfyui-captures";
  const auto load = [&](const char* name) {
    std::ifstream in(captures / name);
    if (!in) {
      ADD_FAILURE() << "capture " << name << " not found under " << captures;
      return json();
    }
    return json::parse(in);
  };
  const json object_info = load("02e_object_info_all.json")["body"];
  ASSERT_EQ(object_info.size(), 558U);
  const node_catalog catalog(master_, {"DistributedSeed"}, {{"w", "comfyui", object_info}});
  EXPECT_EQ(catalog.registry().all().size(), 559U);
  EXPECT_EQ(catalog.object_info(environment_).size(), 559U);
  std::ofstream(environment_.input_dir / "in_test.png") << "png";
  for (const char* name : {"prompt_upscale.json", "prompt_image_nodes.json"}) {
    const json prompt = load(name)["prompt"];
    const auto result = validate(catalog, prompt);
    EXPECT_TRUE(result.ok) << name << ": " << result.node_errors.dump();
    EXPECT_EQ(preflight(prompt, object_info), std::vector<std::string>{}) << name;
  }
  json missing_model = load("prompt_upscale.json")["prompt"];
  missing_model["5"]["inputs"]["model_name"] = "4x-foo.pth";
  EXPECT_EQ(preflight(missing_model, object_info),
            std::vector<std::string>{"UpscaleModelLoader.model_name: no '4x-foo.pth' (has: "
                                     "tiny_compact_x2.pth, tiny_compact_x2.safetensors)"});
}

}  // namespace
}  // namespace comfydist::master

// The prompt queue's ordering, caps and history, the output cache's LRU, Python formatting.
#include <gtest/gtest.h>

#include "engine/output_cache.hpp"
#include "engine/prompt_queue.hpp"
#include "engine/python_format.hpp"

namespace comfydist::engine {
namespace {

queue_item item(double number, const std::string& id) {
  queue_item q;
  q.number = number;
  q.prompt_id = id;
  q.prompt = json::object();
  return q;
}

TEST(PromptQueue, SmallestNumberFirstTiesByIdAndCapped) {
  std::vector<std::size_t> changes;
  prompt_queue queue(3, 2, [&](std::size_t n) { changes.push_back(n); });
  EXPECT_TRUE(queue.put(item(5, "b")));
  EXPECT_TRUE(queue.put(item(-1, "z")));
  EXPECT_TRUE(queue.put(item(5, "a")));
  EXPECT_FALSE(queue.put(item(0, "c")));  // full
  EXPECT_EQ(queue.get()->prompt_id, "z");
  EXPECT_EQ(queue.running_prompt_id(), "z");
  EXPECT_EQ(queue.remaining(), 3U);
  queue.task_done("z", json::object());
  EXPECT_EQ(queue.get()->prompt_id, "a");
  queue.task_done("a", json::object());
  EXPECT_EQ(queue.get()->prompt_id, "b");
  queue.task_done("b", json::object());
  // History keeps the newest two.
  const json history = queue.history_json(std::nullopt, std::nullopt);
  EXPECT_EQ(history.size(), 2U);
  EXPECT_FALSE(history.contains("z"));
  EXPECT_EQ(queue.history_json(1, std::nullopt).begin().key(), "b");
  EXPECT_EQ(changes.front(), 1U);
  EXPECT_EQ(changes.back(), 0U);
}

TEST(PromptQueue, DeleteAndWipePending) {
  prompt_queue queue(10, 10, nullptr);
  queue.put(item(1, "a"));
  queue.put(item(2, "b"));
  queue.put(item(3, "c"));
  queue.delete_pending({"b"});
  EXPECT_EQ(queue.queue_json()["queue_pending"].size(), 2U);
  queue.wipe_pending();
  EXPECT_EQ(queue.remaining(), 0U);
}

TEST(OutputCache, EvictsLeastRecentlyUsedWithinBudget) {
  output_cache cache(100, 10);
  auto entry = [](std::size_t bytes) {
    auto e = std::make_shared<cached_output>();
    e->byte_size = bytes;
    return e;
  };
  cache.store("a", entry(40));
  cache.store("b", entry(40));
  EXPECT_TRUE(cache.find("a"));  // a is now the most recent
  cache.store("c", entry(40));   // evicts b
  EXPECT_TRUE(cache.contains("a"));
  EXPECT_FALSE(cache.contains("b"));
  EXPECT_TRUE(cache.contains("c"));
  cache.store("huge", entry(1000));  // larger than the budget: not kept
  EXPECT_FALSE(cache.contains("huge"));
  EXPECT_LE(cache.bytes(), 100U);
}

TEST(PythonFormat, MatchesPythonStrAndRepr) {
  EXPECT_EQ(python_float_str(8.0), "8.0");
  EXPECT_EQ(python_float_str(0.01), "0.01");
  EXPECT_EQ(python_float_str(1e30), "1e+30");
  EXPECT_EQ(python_float_str(1.5e-05), "1.5e-05");
  EXPECT_EQ(python_repr(json("it's")), "\"it's\"");
  EXPECT_EQ(python_repr(json::parse(R"(["a", 1, true, null])")), "['a', 1, True, None]");
  EXPECT_EQ(python_str(json("x")), "x");
}

}  // namespace
}  // namespace comfydist::engine

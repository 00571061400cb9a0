// What `comfydist run` and `comfydist upscale` draw on a terminal while a job runs.
#include <gtest/gtest.h>

#include "cli/progress_display.hpp"

namespace comfydist::cli {
namespace {

json unit(int index, const std::string& state, const std::string& worker, int value = 0,
          int attempts = 1) {
  json u = {{"index", index}, {"state", state}, {"attempts", attempts}};
  if (!worker.empty()) {
    u["worker_name"] = worker;
    u["worker_id"] = worker + "-id";
  }
  if (state == "dispatched") {
    u["progress"] = {{"value", value}, {"max", 10}};
  }
  return u;
}

json tiled_job() {
  json job = {{"id", "0123456789abcdef"}, {"state", "running"}, {"mode", "tiles"}};
  job["units"] =
      json::array({unit(0, "done", "gpu-1"), unit(1, "done", "gpu-2"), unit(2, "done", "gpu-1"),
                   unit(3, "dispatched", "gpu-1", 3), unit(4, "dispatched", "gpu-2", 10),
                   unit(5, "dispatched", "gpu-2"), unit(6, "pending", "", 0, 0),
                   unit(7, "pending", "gpu-3", 0, 1), unit(8, "failed", "gpu-3")});
  return job;
}

TEST(ProgressDisplay, TiledJobShowsOneBarPerWorker) {
  const auto lines = progress_lines(tiled_job(), 75, 40, 120);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0], "job 01234567  running  tiles  3/9 tiles done  1 min 15 s");
  EXPECT_EQ(lines[1], "gpu-1  [######--------------]  30%  tile 3 · 2 done");
  EXPECT_EQ(lines[2], "gpu-2  [####################] 100%  tile 4 (+1 queued) · 1 done");
  // Units nobody holds: counted, whatever worker they last failed on.
  EXPECT_EQ(lines[3], "1 tile failed, 1 tile to retry, 1 tile waiting");
}

TEST(ProgressDisplay, FewUnitsKeepABarEachManyGetABarPerWorker) {
  json job = tiled_job();
  job["mode"] = "fan_out";
  EXPECT_EQ(progress_lines(job, 1, 40, 120).size(), 10U);  // the header and 9 units
  const auto small = progress_lines(job, 1, 6, 120);       // 4 rows for 9 units: per worker
  ASSERT_EQ(small.size(), 4U);
  EXPECT_EQ(small[1].rfind("gpu-1  [", 0), 0U) << small[1];
  EXPECT_NE(small[3].find("1 unit waiting"), std::string::npos) << small[3];
}

TEST(ProgressDisplay, IdleWorkersAndNarrowTerminals) {
  json job = tiled_job();
  job["units"] = json::array({unit(0, "done", "a-very-long-worker-name"), unit(1, "done", "b")});
  const auto lines = progress_lines(job, 2, 40, 30);
  ASSERT_EQ(lines.size(), 3U);
  for (const auto& line : lines) {
    EXPECT_LE(line.size(), 29U) << line;  // never wraps
  }
  EXPECT_EQ(worker_progress_lines(job)[1],
            "b                        [--------------------] idle · 1 done");
}

TEST(ProgressDisplay, MoreWorkersThanRowsAreCounted) {
  json job = {{"id", "x"}, {"state", "running"}, {"mode", "tiles"}, {"units", json::array()}};
  for (int i = 0; i < 12; ++i) {
    job["units"].push_back(unit(i, "done", "w" + std::to_string(i)));
  }
  const auto lines = progress_lines(job, 0, 8, 80);  // 6 rows for the workers
  ASSERT_EQ(lines.size(), 7U);
  EXPECT_EQ(lines.back(), "+ 7 more lines");
}

}  // namespace
}  // namespace comfydist::cli

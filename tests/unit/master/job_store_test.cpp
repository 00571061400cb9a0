// The SQLite job store: round trips, update paths, durability across restarts, deletion rules,
// corrupt files and concurrent writers.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/uuid.hpp"
#include "master/job_store.hpp"

namespace comfydist::master {
namespace {
namespace fs = std::filesystem;

job_record make_job(const std::string& id, std::int64_t number,
                    job_state state = job_state::queued) {
  job_record job;
  job.id = id;
  job.number = number;
  job.state = state;
  job.created_at = 1700000000.0 + static_cast<double>(number);
  return job;
}

unit_record make_unit(const std::string& job_id, int index) {
  unit_record unit;
  unit.job_id = job_id;
  unit.index = index;
  unit.prompt = {{"1", {{"class_type", "EmptyImage"}, {"inputs", {{"seed", index}}}}}};
  return unit;
}

// A job with every field away from its default, in an order nlohmann's sorted json would change.
job_record full_job() {
  job_record job;
  job.id = "5f0c2a7e-1111-4222-8333-444455556666";
  job.number = 42;
  job.prompt = json::parse(
      R"({"9": {"class_type": "SaveImage", "inputs": {"zeta": 1, "alpha": 2}},
          "10": {"class_type": "EmptyImage", "inputs": {"text": "héllo 世界 🎉"}}, "2": {}})");
  job.extra_data = json::parse(R"({"extra_pnginfo": {"workflow": {"z": 1, "a": [1, 2.5, null]}}})");
  job.client_id = "client-ü";
  job.outputs_to_execute = {"9", "10"};
  job.mode = "fan_out";
  job.master_prompt = json::parse(R"({"b": {"class_type": "DistributedCollector"}, "a": {}})");
  job.collector_ids = {"b"};
  job.worker_ids = {"w2", "w1"};
  job.max_attempts = 5;
  job.state = job_state::running;
  job.created_at = 1700000000.125;
  job.started_at = 1700000001.0000001;
  job.finished_at = 0;
  job.outputs = json::parse(R"({"9": {"images": [{"filename": "ö.png", "type": "output"}]}})");
  job.messages = json::parse(R"([["execution_start", {"prompt_id": "x", "timestamp": 17}]])");
  job.skipped_workers = json::parse(R"({"w3": "has no model 4x-ß.pth", "w0": "offline"})");
  job.error = "unit 1 failed — “quoted”";
  return job;
}

unit_record full_unit(const std::string& job_id, int index) {
  unit_record unit;
  unit.job_id = job_id;
  unit.index = index;
  unit.prompt = json::parse(R"({"3": {"inputs": {"seed": 7}}, "1": {"inputs": {"名": "値"}}})");
  unit.prompt["3"]["inputs"]["seed"] = index;
  unit.collected_outputs = {"4", "11"};
  unit.state = unit_state::dispatched;
  unit.worker_id = "w1";
  unit.worker_name = "Wörker 1";
  unit.remote_prompt_id = "remote-" + std::to_string(index);
  unit.attempts = 2;
  unit.errors = {{"w0", "W0", "timed out", 1700000002.5}, {"w2", "W2", "erreur ✗", 1700000003.25}};
  unit.started_at = 1700000004.75;
  unit.finished_at = 1700000005.5;
  unit.outputs = {{"4", "a_00001_.png", "sub/dir", "temp"}, {"11", "b.png", "", "output"}};
  return unit;
}

void expect_same_job(const job_record& a, const job_record& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.number, b.number);
  // dump() compares key order too, which is what must survive.
  EXPECT_EQ(a.prompt.dump(), b.prompt.dump());
  EXPECT_EQ(a.extra_data.dump(), b.extra_data.dump());
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.outputs_to_execute, b.outputs_to_execute);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.master_prompt.dump(), b.master_prompt.dump());
  EXPECT_EQ(a.collector_ids, b.collector_ids);
  EXPECT_EQ(a.worker_ids, b.worker_ids);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.outputs.dump(), b.outputs.dump());
  EXPECT_EQ(a.messages.dump(), b.messages.dump());
  EXPECT_EQ(a.skipped_workers.dump(), b.skipped_workers.dump());
  EXPECT_EQ(a.error, b.error);
}

void expect_same_unit(const unit_record& a, const unit_record& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.prompt.dump(), b.prompt.dump());
  EXPECT_EQ(a.collected_outputs, b.collected_outputs);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.worker_id, b.worker_id);
  EXPECT_EQ(a.worker_name, b.worker_name);
  EXPECT_EQ(a.remote_prompt_id, b.remote_prompt_id);
  EXPECT_EQ(a.attempts, b.attempts);
  ASSERT_EQ(a.errors.size(), b.errors.size());
  for (std::size_t i = 0; i < a.errors.size(); ++i) {
    EXPECT_EQ(a.errors[i].worker_id, b.errors[i].worker_id);
    EXPECT_EQ(a.errors[i].worker_name, b.errors[i].worker_name);
    EXPECT_EQ(a.errors[i].message, b.errors[i].message);
    EXPECT_EQ(a.errors[i].at, b.errors[i].at);
  }
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (std::size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].node_id, b.outputs[i].node_id);
    EXPECT_EQ(a.outputs[i].filename, b.outputs[i].filename);
    EXPECT_EQ(a.outputs[i].subfolder, b.outputs[i].subfolder);
    EXPECT_EQ(a.outputs[i].type, b.outputs[i].type);
  }
}

std::vector<std::string> ids(const std::vector<job_record>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) {
    out.push_back(j.id);
  }
  return out;
}

// Reads one value with a connection of the test's own, as an operator's sqlite3 shell would.
std::string query_text(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK);
  std::string out;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return out;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cd-jobstore-" + make_uuid4_hex());
    fs::create_directories(dir_);
    file_ = dir_ / "comfydist.db";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  fs::path file_;
};

TEST(JobTypes, StateNamesRoundTrip) {
  for (const job_state s : {job_state::queued, job_state::running, job_state::done,
                            job_state::partial, job_state::failed, job_state::cancelled}) {
    EXPECT_EQ(job_state_from_string(to_string(s)), s);
  }
  for (const unit_state s :
       {unit_state::pending, unit_state::dispatched, unit_state::done, unit_state::failed}) {
    EXPECT_EQ(unit_state_from_string(to_string(s)), s);
  }
  EXPECT_EQ(to_string(job_state::cancelled), "cancelled");
  EXPECT_EQ(to_string(unit_state::dispatched), "dispatched");
  EXPECT_THROW(job_state_from_string("Done"), std::invalid_argument);
  EXPECT_THROW(unit_state_from_string(""), std::invalid_argument);
}

TEST_F(JobStoreTest, EveryFieldRoundTrips) {
  const job_record job = full_job();
  // Inserted out of order: units() must answer by index.
  const std::vector<unit_record> units = {full_unit(job.id, 2), full_unit(job.id, 0),
                                          full_unit(job.id, 1)};
  {
    job_store store(file_);
    store.insert_job(job, units);
  }
  // Read back through a fresh connection, so nothing can come from memory.
  job_store store(file_);
  const auto loaded = store.job(job.id);
  ASSERT_TRUE(loaded.has_value());
  expect_same_job(*loaded, job);
  EXPECT_EQ(loaded->prompt.begin().key(), "9");
  EXPECT_EQ(loaded->prompt["10"]["inputs"]["text"], "héllo 世界 🎉");

  const auto loaded_units = store.units(job.id);
  ASSERT_EQ(loaded_units.size(), 3U);
  for (int i = 0; i < 3; ++i) {
    expect_same_unit(loaded_units[i], full_unit(job.id, i));
  }
  EXPECT_FALSE(store.job("nope").has_value());
  EXPECT_TRUE(store.units("nope").empty());
}

TEST_F(JobStoreTest, UpdatesRewriteMutableFieldsOnly) {
  job_store store(file_);
  job_record job = make_job("j1", 1);
  job.prompt = {{"1", "original"}};
  store.insert_job(job, {make_unit("j1", 0), make_unit("j1", 1)});

  job.state = job_state::partial;
  job.started_at = 10;
  job.finished_at = 20;
  job.outputs = {{"z", 1}, {"a", 2}};
  job.messages = json::array({"m"});
  job.skipped_workers = {{"w9", "offline"}};
  job.error = "unit 1 failed";
  job.worker_ids = {"w1"};
  job.prompt = {{"1", "changed"}};  // immutable: must not be written
  store.update_job(job);
  auto loaded = store.job("j1");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->state, job_state::partial);
  EXPECT_EQ(loaded->started_at, 10);
  EXPECT_EQ(loaded->finished_at, 20);
  EXPECT_EQ(loaded->outputs.dump(), R"({"z":1,"a":2})");
  EXPECT_EQ(loaded->messages, json::array({"m"}));
  EXPECT_EQ(loaded->skipped_workers["w9"], "offline");
  EXPECT_EQ(loaded->error, "unit 1 failed");
  EXPECT_EQ(loaded->worker_ids, std::vector<std::string>{"w1"});
  EXPECT_EQ(loaded->prompt["1"], "original");

  unit_record unit = full_unit("j1", 1);
  unit.prompt = {{"x", 1}};  // immutable
  store.update_unit(unit);
  auto units = store.units("j1");
  ASSERT_EQ(units.size(), 2U);
  EXPECT_EQ(units[0].state, unit_state::pending);
  unit_record expected = full_unit("j1", 1);
  expected.prompt = make_unit("j1", 1).prompt;
  expected.collected_outputs = {};
  expect_same_unit(units[1], expected);

  unit.state = unit_state::done;
  job.state = job_state::done;
  store.update_unit_and_job(unit, job);
  EXPECT_EQ(store.units("j1")[1].state, unit_state::done);
  EXPECT_EQ(store.job("j1")->state, job_state::done);

  EXPECT_THROW(store.update_job(make_job("unknown", 9)), std::runtime_error);
  EXPECT_THROW(store.update_unit(make_unit("j1", 7)), std::runtime_error);
}

TEST_F(JobStoreTest, UnitAndJobUpdateIsAtomic) {
  job_store store(file_);
  store.insert_job(make_job("j1", 1), {make_unit("j1", 0)});
  unit_record unit = make_unit("j1", 0);
  unit.state = unit_state::done;
  // The job update fails (unknown id): the unit's change must be rolled back with it.
  EXPECT_THROW(store.update_unit_and_job(unit, make_job("other", 2)), std::runtime_error);
  EXPECT_EQ(store.units("j1")[0].state, unit_state::pending);
  // The store is usable after the rollback.
  store.update_unit_and_job(unit, make_job("j1", 1, job_state::done));
  EXPECT_EQ(store.units("j1")[0].state, unit_state::done);
}

TEST_F(JobStoreTest, InsertIsAtomic) {
  job_store store(file_);
  store.insert_job(make_job("j1", 1), {make_unit("j1", 0)});
  // A duplicate unit index fails the second insert: the job must not stay behind without it.
  EXPECT_THROW(store.insert_job(make_job("j2", 2), {make_unit("j2", 0), make_unit("j2", 0)}),
               std::runtime_error);
  EXPECT_FALSE(store.job("j2").has_value());
  EXPECT_TRUE(store.units("j2").empty());
  // A duplicate job id is refused and leaves the first job's units alone.
  EXPECT_THROW(store.insert_job(make_job("j1", 3), {make_unit("j1", 5)}), std::runtime_error);
  ASSERT_EQ(store.units("j1").size(), 1U);
  EXPECT_EQ(store.job("j1")->number, 1);
  // Units of another job are a caller bug.
  EXPECT_THROW(store.insert_job(make_job("j3", 3), {make_unit("j1", 1)}), std::invalid_argument);
  EXPECT_EQ(store.count_jobs(), 1U);
}

TEST_F(JobStoreTest, UnfinishedJobsSurviveARestart) {
  {
    job_store store(file_);
    EXPECT_EQ(store.max_number(), 0);
    store.insert_job(make_job("c", 3, job_state::running), {make_unit("c", 0)});
    store.insert_job(make_job("a", 1, job_state::done), {});
    store.insert_job(make_job("d", 4, job_state::failed), {});
    store.insert_job(make_job("b", 2, job_state::queued), {make_unit("b", 0), make_unit("b", 1)});
    store.insert_job(make_job("e", 5, job_state::cancelled), {});
    store.insert_job(make_job("f", 6, job_state::partial), {});
  }
  job_store store(file_);
  EXPECT_EQ(ids(store.unfinished_jobs()), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(store.units("b").size(), 2U);
  EXPECT_EQ(store.count_jobs(), 6U);
  EXPECT_EQ(store.max_number(), 6);
}

TEST_F(JobStoreTest, JobsAreNewestFirstAndPaged) {
  job_store store(file_);
  for (int n = 1; n <= 5; ++n) {
    store.insert_job(make_job("j" + std::to_string(n), n), {});
  }
  // Same number: the later created_at comes first.
  job_record late = make_job("late", 5);
  late.created_at += 100;
  store.insert_job(late, {});
  EXPECT_EQ(ids(store.jobs(3)), (std::vector<std::string>{"late", "j5", "j4"}));
  EXPECT_EQ(ids(store.jobs(3, 3)), (std::vector<std::string>{"j3", "j2", "j1"}));
  EXPECT_TRUE(store.jobs(3, 6).empty());
  EXPECT_TRUE(store.jobs(0).empty());
  EXPECT_EQ(store.jobs(static_cast<std::size_t>(-1)).size(), 6U);
  EXPECT_EQ(store.jobs(10, static_cast<std::size_t>(-1)).size(), 0U);
}

TEST_F(JobStoreTest, DeleteAndClearTouchOnlyFinishedJobs) {
  job_store store(file_);
  store.insert_job(make_job("queued", 1, job_state::queued), {make_unit("queued", 0)});
  store.insert_job(make_job("running", 2, job_state::running), {make_unit("running", 0)});
  store.insert_job(make_job("done", 3, job_state::done), {make_unit("done", 0)});
  store.insert_job(make_job("failed", 4, job_state::failed), {make_unit("failed", 0)});
  store.insert_job(make_job("partial", 5, job_state::partial), {});
  store.insert_job(make_job("cancelled", 6, job_state::cancelled), {});

  EXPECT_FALSE(store.delete_job("queued"));
  EXPECT_FALSE(store.delete_job("running"));
  EXPECT_FALSE(store.delete_job("unknown"));
  EXPECT_TRUE(store.delete_job("done"));
  EXPECT_FALSE(store.job("done").has_value());
  EXPECT_TRUE(store.units("done").empty());  // cascaded
  EXPECT_FALSE(store.delete_job("done"));

  EXPECT_EQ(store.clear_finished(), 3U);
  EXPECT_TRUE(store.units("failed").empty());
  EXPECT_EQ(ids(store.jobs(10)), (std::vector<std::string>{"running", "queued"}));
  EXPECT_EQ(store.units("queued").size(), 1U);
  EXPECT_EQ(store.clear_finished(), 0U);
  // Units left over by a cascade failure would show here.
  EXPECT_EQ(query_text(file_, "SELECT COUNT(*) FROM units"), "2");
}

TEST_F(JobStoreTest, CorruptFileIsAClearError) {
  {
    std::ofstream out(file_, std::ios::binary);
    for (int i = 0; i < 4096; ++i) {
      out.put(static_cast<char>((i * 37 + 11) & 0xff));
    }
  }
  try {
    job_store store(file_);
    FAIL() << "a garbage file opened as a job store";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file_.string()), std::string::npos) << message;
    EXPECT_NE(message.find("not a database"), std::string::npos) << message;
  }
}

TEST_F(JobStoreTest, UnopenablePathIsAClearError) {
  const fs::path missing = dir_ / "no" / "such" / "dir" / "comfydist.db";
  try {
    job_store store(missing);
    FAIL() << "opened a database in a missing folder";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
}

TEST_F(JobStoreTest, NewerSchemaIsRefused) {
  { job_store store(file_); }
  query_text(file_, "PRAGMA user_version = 99");
  EXPECT_EQ(query_text(file_, "PRAGMA user_version"), "99");
  try {
    job_store store(file_);
    FAIL() << "opened a database of a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

TEST_F(JobStoreTest, UsesWalAndRecordsTheSchemaVersion) {
  job_store store(file_);
  EXPECT_EQ(query_text(file_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(file_, "PRAGMA user_version"), "1");
  // Reopening an up-to-date database migrates nothing and keeps the data.
  store.insert_job(make_job("j", 1), {});
  job_store again(file_);
  EXPECT_EQ(again.count_jobs(), 1U);
}

TEST_F(JobStoreTest, ConcurrentWritersDoNotCorrupt) {
  job_store store(file_);
  constexpr int kThreads = 4;
  constexpr int kJobsPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kJobsPerThread; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        job_record job = make_job(id, t * kJobsPerThread + i + 1);
        store.insert_job(job, {make_unit(id, 0), make_unit(id, 1)});
        for (int u = 0; u < 2; ++u) {
          unit_record unit = make_unit(id, u);
          unit.state = unit_state::done;
          unit.attempts = 1;
          job.state = u == 1 ? job_state::done : job_state::running;
          store.update_unit_and_job(unit, job);
        }
        // Readers interleave with the writers.
        EXPECT_TRUE(store.job(id).has_value());
        EXPECT_GE(store.count_jobs(), static_cast<std::size_t>(i + 1));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(store.count_jobs(), static_cast<std::size_t>(kThreads * kJobsPerThread));
  EXPECT_EQ(store.max_number(), kThreads * kJobsPerThread);
  EXPECT_TRUE(store.unfinished_jobs().empty());
  for (const auto& job : store.jobs(job_store::max_page)) {
    const auto units = store.units(job.id);
    ASSERT_EQ(units.size(), 2U);
    EXPECT_EQ(units[0].state, unit_state::done);
    EXPECT_EQ(units[1].state, unit_state::done);
  }
  EXPECT_EQ(query_text(file_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace comfydist::master

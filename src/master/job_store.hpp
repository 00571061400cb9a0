// The master's durable record of jobs and their units (design.md §4 "Durability"): one SQLite
// database in the data dir, so a restarted master keeps its history and resumes unfinished jobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "master/job_types.hpp"

struct sqlite3;

namespace comfydist::master {

// Thread-safe: the scheduler and the HTTP threads share one store. Every SQLite failure surfaces
// as std::runtime_error naming the operation and the file.
class job_store {
 public:
  // The most jobs one jobs() call returns; larger limits are clamped to it.
  static constexpr std::size_t max_page = 10000;

  // Opens or creates the database (WAL, synchronous=NORMAL, foreign keys, busy timeout) and
  // creates or migrates the schema (its version lives in PRAGMA user_version). Throws
  // std::runtime_error with the path and SQLite's message when the file cannot be opened, is not
  // a database, or was written by a newer schema.
  explicit job_store(const std::filesystem::path& file);
  ~job_store();
  job_store(const job_store&) = delete;
  job_store& operator=(const job_store&) = delete;

  // Inserts the job and its units in one transaction. Every unit's job_id must be job.id
  // (std::invalid_argument otherwise); an id already stored is an error.
  void insert_job(const job_record& job, const std::vector<unit_record>& units);
  // Rewrite the mutable fields: job: state, started_at, finished_at, outputs, messages,
  // skipped_workers, error, worker_ids; unit: state, worker_id/name, remote_prompt_id, attempts,
  // errors, started_at, finished_at, outputs. An unknown job or unit is an error.
  void update_job(const job_record& job);
  void update_unit(const unit_record& unit);
  // Both in one transaction: a unit finishing and the job changing with it.
  void update_unit_and_job(const unit_record& unit, const job_record& job);

  std::optional<job_record> job(const std::string& id) const;
  std::vector<unit_record> units(const std::string& job_id) const;  // by index
  // Newest first (by number, then created_at).
  std::vector<job_record> jobs(std::size_t limit, std::size_t offset = 0) const;
  // Jobs queued or running, oldest first (by number): what a restarted master resumes.
  std::vector<job_record> unfinished_jobs() const;
  std::size_t count_jobs() const;
  // Deletes a finished job with its units; false when the job is unknown or not finished.
  bool delete_job(const std::string& id);
  // Deletes every finished job with its units; returns how many jobs.
  std::size_t clear_finished();
  std::int64_t max_number() const;  // 0 when empty

 private:
  struct connection_closer {
    void operator()(sqlite3* db) const;
  };

  void migrate();
  void update_job_locked(const job_record& job);
  void update_unit_locked(const unit_record& unit);

  mutable std::mutex mutex_;
  std::unique_ptr<sqlite3, connection_closer> db_;
};

}  // namespace comfydist::master

// The SQLite job store: schema, migrations, and the mapping between records and rows. JSON fields
// are stored as JSON text so that ordered keys (prompt node order, history outputs) round-trip.
#include "master/job_store.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "master/sqlite_statement.hpp"

namespace comfydist::master {
namespace {

// Entry i moves the schema from version i to i + 1; PRAGMA user_version holds how many have run.
// Append new steps, never edit old ones: databases in the field already ran them.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY NOT NULL,
  number INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  extra_data TEXT NOT NULL,
  client_id TEXT NOT NULL,
  outputs_to_execute TEXT NOT NULL,
  mode TEXT NOT NULL,
  master_prompt TEXT NOT NULL,
  collector_ids TEXT NOT NULL,
  worker_ids TEXT NOT NULL,
  max_attempts INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at REAL NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL NOT NULL,
  outputs TEXT NOT NULL,
  messages TEXT NOT NULL,
  skipped_workers TEXT NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX jobs_by_number ON jobs(number);
CREATE INDEX jobs_by_state ON jobs(state);
CREATE TABLE units (
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  unit_index INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  collected_outputs TEXT NOT NULL,
  state TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  worker_name TEXT NOT NULL,
  remote_prompt_id TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  errors TEXT NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL NOT NULL,
  outputs TEXT NOT NULL,
  PRIMARY KEY (job_id, unit_index)
) WITHOUT ROWID;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr const char* kJobColumns =
    "id, number, prompt, extra_data, client_id, outputs_to_execute, mode, master_prompt, "
    "collector_ids, worker_ids, max_attempts, state, created_at, started_at, finished_at, outputs, "
    "messages, skipped_workers, error";
constexpr const char* kUnitColumns =
    "job_id, unit_index, prompt, collected_outputs, state, worker_id, worker_name, "
    "remote_prompt_id, attempts, errors, started_at, finished_at, outputs";

// Commits only when told to; leaving scope otherwise (an exception) rolls back.
class transaction {
 public:
  explicit transaction(sqlite3* db) : db_(db) {
    // IMMEDIATE takes the write lock up front, so a transaction never fails half way for a lock.
    sqlite_exec(db_, "BEGIN IMMEDIATE", "job store: begin transaction");
  }
  ~transaction() {
    if (!committed_) {
      // Runs while an exception is already on its way out; that one says what went wrong. A
      // failing ROLLBACK means SQLite already rolled back (it does so itself on some errors).
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  void commit() {
    sqlite_exec(db_, "COMMIT", "job store: commit transaction");
    committed_ = true;
  }

 private:
  sqlite3* db_;
  bool committed_ = false;
};

// The finished states as an SQL list, derived from is_finished so the two cannot disagree.
const std::string& finished_states_sql() {
  static const std::string list = [] {
    std::string out = "(";
    for (const job_state state : {job_state::queued, job_state::running, job_state::done,
                                  job_state::partial, job_state::failed, job_state::cancelled}) {
      if (is_finished(state)) {
        out += (out.size() > 1 ? ", '" : "'") + to_string(state) + "'";
      }
    }
    return out + ")";
  }();
  return list;
}

std::string to_text(const json& value) {
  // A stray invalid UTF-8 byte (a worker's error text, a file name) must not make a job
  // unsavable; it is stored as U+FFFD instead.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string to_text(const std::vector<std::string>& values) {
  return to_text(json(values));
}

std::string errors_text(const std::vector<unit_error>& errors) {
  json out = json::array();
  for (const auto& e : errors) {
    out.push_back({{"worker_id", e.worker_id},
                   {"worker_name", e.worker_name},
                   {"message", e.message},
                   {"at", e.at}});
  }
  return to_text(out);
}

std::string outputs_text(const std::vector<unit_output>& outputs) {
  json out = json::array();
  for (const auto& o : outputs) {
    out.push_back({{"node_id", o.node_id},
                   {"filename", o.filename},
                   {"subfolder", o.subfolder},
                   {"type", o.type}});
  }
  return to_text(out);
}

std::vector<unit_error> errors_from(const json& array) {
  std::vector<unit_error> out;
  for (const auto& e : array) {
    out.push_back({e.at("worker_id").get<std::string>(), e.at("worker_name").get<std::string>(),
                   e.at("message").get<std::string>(), e.at("at").get<double>()});
  }
  return out;
}

std::vector<unit_output> outputs_from(const json& array) {
  std::vector<unit_output> out;
  for (const auto& o : array) {
    out.push_back({o.at("node_id").get<std::string>(), o.at("filename").get<std::string>(),
                   o.at("subfolder").get<std::string>(), o.at("type").get<std::string>()});
  }
  return out;
}

json json_column(const sqlite_statement& row, int column) {
  return json::parse(row.column_text(column));
}

std::vector<std::string> strings_column(const sqlite_statement& row, int column) {
  return json_column(row, column).get<std::vector<std::string>>();
}

// Columns in kJobColumns order.
job_record read_job(const sqlite_statement& row) {
  job_record job;
  job.id = row.column_text(0);
  try {
    job.number = row.column_int(1);
    job.prompt = json_column(row, 2);
    job.extra_data = json_column(row, 3);
    job.client_id = row.column_text(4);
    job.outputs_to_execute = strings_column(row, 5);
    job.mode = row.column_text(6);
    job.master_prompt = json_column(row, 7);
    job.collector_ids = strings_column(row, 8);
    job.worker_ids = strings_column(row, 9);
    job.max_attempts = static_cast<int>(row.column_int(10));
    job.state = job_state_from_string(row.column_text(11));
    job.created_at = row.column_real(12);
    job.started_at = row.column_real(13);
    job.finished_at = row.column_real(14);
    job.outputs = json_column(row, 15);
    job.messages = json_column(row, 16);
    job.skipped_workers = json_column(row, 17);
    job.error = row.column_text(18);
  } catch (const json::exception& e) {
    throw std::runtime_error("job store: job " + job.id + " is unreadable: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("job store: job " + job.id + " is unreadable: " + e.what());
  }
  return job;
}

// Columns in kUnitColumns order.
unit_record read_unit(const sqlite_statement& row) {
  unit_record unit;
  unit.job_id = row.column_text(0);
  unit.index = static_cast<int>(row.column_int(1));
  try {
    unit.prompt = json_column(row, 2);
    unit.collected_outputs = strings_column(row, 3);
    unit.state = unit_state_from_string(row.column_text(4));
    unit.worker_id = row.column_text(5);
    unit.worker_name = row.column_text(6);
    unit.remote_prompt_id = row.column_text(7);
    unit.attempts = static_cast<int>(row.column_int(8));
    unit.errors = errors_from(json_column(row, 9));
    unit.started_at = row.column_real(10);
    unit.finished_at = row.column_real(11);
    unit.outputs = outputs_from(json_column(row, 12));
  } catch (const json::exception& e) {
    throw std::runtime_error("job store: unit " + std::to_string(unit.index) + " of job " +
                             unit.job_id + " is unreadable: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("job store: unit " + std::to_string(unit.index) + " of job " +
                             unit.job_id + " is unreadable: " + e.what());
  }
  return unit;
}

std::vector<job_record> read_jobs(sqlite_statement& query) {
  std::vector<job_record> out;
  while (query.step()) {
    out.push_back(read_job(query));
  }
  return out;
}

}  // namespace

void job_store::connection_closer::operator()(sqlite3* db) const {
  // sqlite3_close_v2 defers the close until every statement is finalized; the store's statements
  // are all scoped to one call, so none is left by now.
  sqlite3_close_v2(db);
}

job_store::job_store(const std::filesystem::path& file) {
  sqlite3* raw = nullptr;
  const int code =
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // The handle exists even when opening failed; it carries the message and must be closed.
  db_.reset(raw);
  if (code != SQLITE_OK) {
    const std::string message = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(code);
    throw std::runtime_error("job store: cannot open " + file.string() + ": " + message);
  }
  sqlite3_extended_result_codes(db_.get(), 1);
  // The master is the only writer (data_dir_lock), but a sqlite3 shell or backup tool may hold a
  // lock briefly.
  const int busy = sqlite3_busy_timeout(db_.get(), 5000);
  if (busy != SQLITE_OK) {
    throw_sqlite_error(db_.get(), busy, "job store: set busy timeout");
  }
  {
    // The first statement that reads the file: a file that is not a database fails here.
    sqlite_statement wal(db_.get(), "PRAGMA journal_mode = WAL", "job store: set WAL mode");
    const std::string mode = wal.step() ? wal.column_text(0) : std::string();
    if (mode != "wal") {
      // Some file systems (network mounts) cannot share WAL's index; the store still works, with
      // writers and readers serialized.
      spdlog::warn("job store {}: journal mode is \"{}\", not WAL", file.string(), mode);
    }
  }
  // NORMAL in WAL mode may lose the last commits on power loss but never corrupts the database.
  sqlite_exec(db_.get(), "PRAGMA synchronous = NORMAL", "job store: set synchronous mode");
  sqlite_exec(db_.get(), "PRAGMA foreign_keys = ON", "job store: enable foreign keys");
  migrate();
}

job_store::~job_store() = default;

void job_store::migrate() {
  for (;;) {
    // The version is read inside the write transaction so that two processes opening the same
    // file cannot both run a step.
    transaction t(db_.get());
    const std::int64_t version = [&] {
      // Finalized before the migration runs: no statement stays open across schema changes.
      sqlite_statement query(db_.get(), "PRAGMA user_version", "job store: read schema version");
      return query.step() ? query.column_int(0) : 0;
    }();
    if (version > kSchemaVersion || version < 0) {
      const char* file = sqlite3_db_filename(db_.get(), "main");
      throw std::runtime_error("job store " + std::string(file != nullptr ? file : "") +
                               " has schema version " + std::to_string(version) +
                               "; this comfydist knows versions up to " +
                               std::to_string(kSchemaVersion) + " (written by a newer release?)");
    }
    if (version == kSchemaVersion) {
      t.commit();
      return;
    }
    sqlite_exec(db_.get(), kMigrations[version],
                "job store: migrate schema to version " + std::to_string(version + 1));
    sqlite_exec(db_.get(), "PRAGMA user_version = " + std::to_string(version + 1),
                "job store: record schema version " + std::to_string(version + 1));
    t.commit();
  }
}

void job_store::insert_job(const job_record& job, const std::vector<unit_record>& units) {
  for (const auto& unit : units) {
    if (unit.job_id != job.id) {
      throw std::invalid_argument("job store: unit " + std::to_string(unit.index) +
                                  " has job_id \"" + unit.job_id + "\", not the job's \"" + job.id +
                                  "\"");
    }
  }
  const std::lock_guard lock(mutex_);
  transaction t(db_.get());
  {
    sqlite_statement insert(db_.get(),
                            std::string("INSERT INTO jobs (") + kJobColumns +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                "?, ?, ?, ?, ?)",
                            "job store: insert job " + job.id);
    insert.bind_text(1, job.id);
    insert.bind_int(2, job.number);
    insert.bind_text(3, to_text(job.prompt));
    insert.bind_text(4, to_text(job.extra_data));
    insert.bind_text(5, job.client_id);
    insert.bind_text(6, to_text(job.outputs_to_execute));
    insert.bind_text(7, job.mode);
    insert.bind_text(8, to_text(job.master_prompt));
    insert.bind_text(9, to_text(job.collector_ids));
    insert.bind_text(10, to_text(job.worker_ids));
    insert.bind_int(11, job.max_attempts);
    insert.bind_text(12, to_string(job.state));
    insert.bind_real(13, job.created_at);
    insert.bind_real(14, job.started_at);
    insert.bind_real(15, job.finished_at);
    insert.bind_text(16, to_text(job.outputs));
    insert.bind_text(17, to_text(job.messages));
    insert.bind_text(18, to_text(job.skipped_workers));
    insert.bind_text(19, job.error);
    insert.run();
  }
  for (const auto& unit : units) {
    sqlite_statement insert(
        db_.get(),
        std::string("INSERT INTO units (") + kUnitColumns +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "job store: insert unit " + std::to_string(unit.index) + " of job " + job.id);
    insert.bind_text(1, job.id);
    insert.bind_int(2, unit.index);
    insert.bind_text(3, to_text(unit.prompt));
    insert.bind_text(4, to_text(unit.collected_outputs));
    insert.bind_text(5, to_string(unit.state));
    insert.bind_text(6, unit.worker_id);
    insert.bind_text(7, unit.worker_name);
    insert.bind_text(8, unit.remote_prompt_id);
    insert.bind_int(9, unit.attempts);
    insert.bind_text(10, errors_text(unit.errors));
    insert.bind_real(11, unit.started_at);
    insert.bind_real(12, unit.finished_at);
    insert.bind_text(13, outputs_text(unit.outputs));
    insert.run();
  }
  t.commit();
}

void job_store::update_job_locked(const job_record& job) {
  sqlite_statement update(
      db_.get(),
      "UPDATE jobs SET state = ?, started_at = ?, finished_at = ?, outputs = ?, "
      "messages = ?, skipped_workers = ?, error = ?, worker_ids = ? "
      "WHERE id = ?",
      "job store: update job " + job.id);
  update.bind_text(1, to_string(job.state));
  update.bind_real(2, job.started_at);
  update.bind_real(3, job.finished_at);
  update.bind_text(4, to_text(job.outputs));
  update.bind_text(5, to_text(job.messages));
  update.bind_text(6, to_text(job.skipped_workers));
  update.bind_text(7, job.error);
  update.bind_text(8, to_text(job.worker_ids));
  update.bind_text(9, job.id);
  update.run();
  if (update.changes() == 0) {
    throw std::runtime_error("job store: update of unknown job " + job.id);
  }
}

void job_store::update_unit_locked(const unit_record& unit) {
  sqlite_statement update(
      db_.get(),
      "UPDATE units SET state = ?, worker_id = ?, worker_name = ?, "
      "remote_prompt_id = ?, attempts = ?, errors = ?, started_at = ?, "
      "finished_at = ?, outputs = ? WHERE job_id = ? AND unit_index = ?",
      "job store: update unit " + std::to_string(unit.index) + " of job " + unit.job_id);
  update.bind_text(1, to_string(unit.state));
  update.bind_text(2, unit.worker_id);
  update.bind_text(3, unit.worker_name);
  update.bind_text(4, unit.remote_prompt_id);
  update.bind_int(5, unit.attempts);
  update.bind_text(6, errors_text(unit.errors));
  update.bind_real(7, unit.started_at);
  update.bind_real(8, unit.finished_at);
  update.bind_text(9, outputs_text(unit.outputs));
  update.bind_text(10, unit.job_id);
  update.bind_int(11, unit.index);
  update.run();
  if (update.changes() == 0) {
    throw std::runtime_error("job store: update of unknown unit " + std::to_string(unit.index) +
                             " of job " + unit.job_id);
  }
}

void job_store::update_job(const job_record& job) {
  const std::lock_guard lock(mutex_);
  update_job_locked(job);
}

void job_store::update_unit(const unit_record& unit) {
  const std::lock_guard lock(mutex_);
  update_unit_locked(unit);
}

void job_store::update_unit_and_job(const unit_record& unit, const job_record& job) {
  const std::lock_guard lock(mutex_);
  transaction t(db_.get());
  update_unit_locked(unit);
  update_job_locked(job);
  t.commit();
}

std::optional<job_record> job_store::job(const std::string& id) const {
  const std::lock_guard lock(mutex_);
  sqlite_statement query(db_.get(),
                         std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?",
                         "job store: read job " + id);
  query.bind_text(1, id);
  if (!query.step()) {
    return std::nullopt;
  }
  return read_job(query);
}

std::vector<unit_record> job_store::units(const std::string& job_id) const {
  const std::lock_guard lock(mutex_);
  sqlite_statement query(
      db_.get(),
      std::string("SELECT ") + kUnitColumns + " FROM units WHERE job_id = ? ORDER BY unit_index",
      "job store: read the units of job " + job_id);
  query.bind_text(1, job_id);
  std::vector<unit_record> out;
  while (query.step()) {
    out.push_back(read_unit(query));
  }
  return out;
}

std::vector<job_record> job_store::jobs(std::size_t limit, std::size_t offset) const {
  const auto max_offset = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  const std::lock_guard lock(mutex_);
  sqlite_statement query(db_.get(),
                         std::string("SELECT ") + kJobColumns +
                             " FROM jobs ORDER BY number DESC, created_at DESC, id DESC "
                             "LIMIT ? OFFSET ?",
                         "job store: list jobs");
  query.bind_int(1, static_cast<std::int64_t>(std::min(limit, max_page)));
  query.bind_int(2, static_cast<std::int64_t>(std::min(offset, max_offset)));
  return read_jobs(query);
}

std::vector<job_record> job_store::unfinished_jobs() const {
  const std::lock_guard lock(mutex_);
  sqlite_statement query(db_.get(),
                         std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state NOT IN " +
                             finished_states_sql() + " ORDER BY number, created_at, id",
                         "job store: list unfinished jobs");
  return read_jobs(query);
}

std::size_t job_store::count_jobs() const {
  const std::lock_guard lock(mutex_);
  sqlite_statement query(db_.get(), "SELECT COUNT(*) FROM jobs", "job store: count jobs");
  return query.step() ? static_cast<std::size_t>(query.column_int(0)) : 0;
}

bool job_store::delete_job(const std::string& id) {
  const std::lock_guard lock(mutex_);
  // The units go with the job through ON DELETE CASCADE, in the same statement.
  sqlite_statement erase(db_.get(),
                         "DELETE FROM jobs WHERE id = ? AND state IN " + finished_states_sql(),
                         "job store: delete job " + id);
  erase.bind_text(1, id);
  erase.run();
  return erase.changes() > 0;
}

std::size_t job_store::clear_finished() {
  const std::lock_guard lock(mutex_);
  sqlite_statement erase(db_.get(), "DELETE FROM jobs WHERE state IN " + finished_states_sql(),
                         "job store: clear finished jobs");
  erase.run();
  return static_cast<std::size_t>(erase.changes());
}

std::int64_t job_store::max_number() const {
  const std::lock_guard lock(mutex_);
  sqlite_statement query(db_.get(), "SELECT COALESCE(MAX(number), 0) FROM jobs",
                         "job store: read the highest job number");
  return query.step() ? query.column_int(0) : 0;
}

}  // namespace comfydist::master

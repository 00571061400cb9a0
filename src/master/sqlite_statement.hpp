// A prepared SQLite statement that finalizes itself, and the error reporting every SQLite call in
// the master goes through: each failure becomes std::runtime_error naming what was being done,
// SQLite's message and the database file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace comfydist::master {

// `context` says what was being attempted ("insert job 1234"); the message adds SQLite's text.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int code, std::string_view context);

// Runs statements that bind nothing and whose rows, if any, do not matter (schema, BEGIN, COMMIT).
void sqlite_exec(sqlite3* db, const std::string& sql, std::string_view context);

class sqlite_statement {
 public:
  // `context` names the operation in error messages ("job store: insert job 1234").
  sqlite_statement(sqlite3* db, std::string_view sql, std::string context);
  ~sqlite_statement();
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  // Parameters count from 1, as in SQLite. Text is copied, so temporaries may be bound.
  void bind_text(int index, std::string_view text);
  void bind_int(int index, std::int64_t value);
  void bind_real(int index, double value);

  // True while a row is available; false once the statement is done.
  bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, DELETE).
  void run();
  // Rows changed by the last run() on this connection.
  std::int64_t changes() const;

  // Columns count from 0, as in SQLite. NULL reads as "" / 0.
  std::string column_text(int column) const;
  std::int64_t column_int(int column) const;
  double column_real(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  std::string context_;
};

}  // namespace comfydist::master

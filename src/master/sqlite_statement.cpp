// Prepared statements and SQLite error reporting for the job store.
#include "master/sqlite_statement.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <utility>

namespace comfydist::master {

void throw_sqlite_error(sqlite3* db, int code, std::string_view context) {
  std::string message(context);
  message += ": ";
  // sqlite3_errmsg describes the connection's last failure, which is `code` except after calls
  // that do not record their error on the connection (sqlite3_errstr is right for any code).
  message += db != nullptr && sqlite3_extended_errcode(db) == code ? sqlite3_errmsg(db)
                                                                   : sqlite3_errstr(code);
  message += " (SQLite code " + std::to_string(code) + ")";
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  if (file != nullptr && *file != '\0') {
    message += " in ";
    message += file;
  }
  throw std::runtime_error(message);
}

void sqlite_exec(sqlite3* db, const std::string& sql, std::string_view context) {
  char* error = nullptr;
  const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  // The connection also holds the message; this copy only needs freeing.
  sqlite3_free(error);
  if (code != SQLITE_OK) {
    throw_sqlite_error(db, code, context);
  }
}

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view sql, std::string context)
    : db_(db), context_(std::move(context)) {
  const int code =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &statement_, nullptr);
  if (code != SQLITE_OK) {
    sqlite3_finalize(statement_);
    throw_sqlite_error(db_, code, context_);
  }
}

sqlite_statement::~sqlite_statement() {
  sqlite3_finalize(statement_);
}

void sqlite_statement::bind_text(int index, std::string_view text) {
  const int code = sqlite3_bind_text64(statement_, index, text.data(), text.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
  if (code != SQLITE_OK) {
    throw_sqlite_error(db_, code, context_ + " (binding parameter " + std::to_string(index) + ")");
  }
}

void sqlite_statement::bind_int(int index, std::int64_t value) {
  const int code = sqlite3_bind_int64(statement_, index, value);
  if (code != SQLITE_OK) {
    throw_sqlite_error(db_, code, context_ + " (binding parameter " + std::to_string(index) + ")");
  }
}

void sqlite_statement::bind_real(int index, double value) {
  const int code = sqlite3_bind_double(statement_, index, value);
  if (code != SQLITE_OK) {
    throw_sqlite_error(db_, code, context_ + " (binding parameter " + std::to_string(index) + ")");
  }
}

bool sqlite_statement::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) {
    return true;
  }
  if (code == SQLITE_DONE) {
    return false;
  }
  throw_sqlite_error(db_, code, context_);
}

void sqlite_statement::run() {
  if (step()) {
    throw std::logic_error(context_ + ": the statement returned rows where none were expected");
  }
}

std::int64_t sqlite_statement::changes() const {
  return sqlite3_changes64(db_);
}

std::string sqlite_statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(statement_, column);
  if (text == nullptr) {
    // NULL text is also how SQLite reports running out of memory while converting the value.
    if (sqlite3_column_type(statement_, column) != SQLITE_NULL) {
      throw_sqlite_error(db_, SQLITE_NOMEM,
                         context_ + " (reading column " + std::to_string(column) + ")");
    }
    return {};
  }
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}

std::int64_t sqlite_statement::column_int(int column) const {
  return sqlite3_column_int64(statement_, column);
}

double sqlite_statement::column_real(int column) const {
  return sqlite3_column_double(statement_, column);
}

}  // namespace comfydist::master

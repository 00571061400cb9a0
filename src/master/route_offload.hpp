// Runs a route's work on the master's task pool (it may wait on workers or hash files) and turns
// what it throws into the matching answer.
#pragma once

#include <spdlog/spdlog.h>

#include <functional>

#include "common/api_error.hpp"
#include "master/master_context.hpp"
#include "master/master_routes.hpp"

namespace comfydist::master {

inline void offload(master_context& context, const net::http_responder& reply,
                    std::function<net::http_response()> work) {
  const bool queued = context.pool->submit([reply, work = std::move(work)]() {
    try {
      reply(work());
    } catch (const prompt_rejected& ex) {
      reply(master_json(400, ex.body()));
    } catch (const api_error& ex) {
      json error = json::object();
      error["type"] = ex.type();
      error["message"] = ex.what();
      reply(master_json(ex.status(), json::object({{"error", error}})));
    } catch (const std::exception& ex) {
      spdlog::error("event=route_failed error=\"{}\"", ex.what());
      json error = json::object();
      error["type"] = "internal_error";
      error["message"] = ex.what();
      reply(master_json(500, json::object({{"error", error}})));
    }
  });
  if (!queued) {
    throw api_error(503, "busy", "the master is busy; retry shortly");
  }
}

}  // namespace comfydist::master

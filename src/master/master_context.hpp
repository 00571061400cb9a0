// What the master's routes share.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "master/config_store.hpp"
#include "master/master_options.hpp"
#include "master/status_hub.hpp"
#include "master/worker_registry.hpp"
#include "net/async_http_client.hpp"

namespace comfydist::master {

struct master_context {
  master_options options;
  std::unique_ptr<config_store> store;
  std::unique_ptr<net::async_http_client> client;
  std::unique_ptr<worker_probe> probe;
  std::unique_ptr<worker_registry> registry;
  status_hub hub;
  std::optional<std::string> auth_token;
};

}  // namespace comfydist::master

// Worker URLs.
#include "master/worker_probe.hpp"

namespace comfydist::master {

std::string worker_base_url(const worker_config& worker) {
  switch (worker.type) {
    case worker_type::local:
      return "http://127.0.0.1:" + std::to_string(worker.port);
    case worker_type::remote: {
      const bool v6 = worker.host.find(':') != std::string::npos;
      return "http://" + (v6 ? "[" + worker.host + "]" : worker.host) + ":" +
             std::to_string(worker.port);
    }
    case worker_type::cloud:
      return "https://" + worker.host +
             (worker.port == 443 ? "" : ":" + std::to_string(worker.port));
  }
  return {};
}

}  // namespace comfydist::master

// Building worker launch commands.
#include "master/launch_command.hpp"

#include "master/config_error.hpp"
#include "master/shell_args.hpp"
#include "master/worker_logs.hpp"

namespace comfydist::master {

launch_spec make_launch_spec(const worker_config& worker, const cluster_settings& settings,
                             const launch_context& context) {
  launch_spec spec;
  const std::string port = std::to_string(worker.port);
  const std::string device = worker.cuda_device ? *worker.cuda_device : "";
  if (worker.engine == worker_engine::native) {
    spec.program = context.comfydist_binary.string();
    spec.args = {
        "worker",
        "--port",
        port,
        "--data-dir",
        (context.workers_dir / file_safe_name(worker.name + "-" + worker.id.substr(0, 8))).string(),
        "--device",
        "cpu"};
    if (!context.auth_token_file.empty()) {
      spec.args.push_back("--auth-token-file");
      spec.args.push_back(context.auth_token_file);
    }
  } else {
    if (settings.comfyui.root.empty()) {
      throw config_error("settings.comfyui.root",
                         "set the ComfyUI folder to launch workers with engine 'comfyui'");
    }
    const std::filesystem::path main_py = std::filesystem::path(settings.comfyui.root) / "main.py";
    if (!std::filesystem::exists(main_py)) {
      throw config_error("settings.comfyui.root", main_py.string() + " does not exist");
    }
    spec.program = settings.comfyui.python.empty() ? "python3" : settings.comfyui.python;
    spec.args = {main_py.string(), "--port", port, "--disable-auto-launch"};
  }
  for (auto& arg : split_shell_args(worker.extra_args)) {
    spec.args.push_back(std::move(arg));
  }
  if (!device.empty()) {
    spec.environment.emplace_back("CUDA_VISIBLE_DEVICES", device);
  }
  spec.environment.emplace_back("COMFYDIST_WORKER_ID", worker.id);
  spec.log_file = worker_log_path(context.logs_dir, worker.name);
  std::string command = spec.program;
  for (const auto& a : spec.args) {
    command += " " + a;
  }
  spec.log_header = "=== comfydist: starting worker '" + worker.name + "' port=" + port +
                    " device=" + (device.empty() ? "cpu" : "cuda:" + device) +
                    " command: " + command;
  spec.die_with_master = context.die_with_master;
  return spec;
}

}  // namespace comfydist::master

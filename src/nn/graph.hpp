// The network description every model loader produces and every backend runs: a small DAG of the
// ops super-resolution models need, independent of file format and of backend. Loaders read
// layers from files (TF.js model.json, safetensors, .pth) into this form; no network is
// hard-coded anywhere else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace comfydist::nn {

enum class op_kind {
  input,   // the network input (exactly one, node 0)
  conv2d,  // stride 1, no dilation, explicit zero padding, optional bias
  relu,
  leaky_relu,        // alpha = negative slope
  prelu,             // per-channel slopes
  add,               // elementwise sum of all inputs (same shape)
  scale,             // multiply by alpha
  concat,            // along channels, in input order
  pixel_shuffle,     // depth-to-space by `factor`, in `order`
  upsample_nearest,  // nearest-neighbour by integer `factor`
};

// Channel order of depth-to-space. PyTorch's pixel_shuffle is CRD:
// out[c, h*s+i, w*s+j] = in[c*s*s + i*s + j, h, w]. TF's depth_to_space (NHWC) is DCR:
// out[h*s+i, w*s+j, c] = in[h, w, (i*s+j)*C + c].
enum class shuffle_order { crd, dcr };

struct conv2d_params {
  int in_channels = 0;
  int out_channels = 0;
  int kernel_h = 0;
  int kernel_w = 0;
  int pad_top = 0;
  int pad_left = 0;
  int pad_bottom = 0;
  int pad_right = 0;
  std::vector<float> weights;  // OIHW: out_channels × in_channels × kernel_h × kernel_w
  std::vector<float> bias;     // out_channels values, or empty for no bias
};

struct graph_node {
  op_kind kind = op_kind::input;
  std::string name;           // the layer name in the source file, for error messages
  std::vector<int> inputs;    // indices of earlier nodes
  conv2d_params conv;         // conv2d only
  float alpha = 0.0F;         // leaky_relu slope, scale factor
  std::vector<float> slopes;  // prelu
  int factor = 1;             // pixel_shuffle, upsample_nearest
  shuffle_order order = shuffle_order::crd;
};

struct graph {
  std::string architecture;  // e.g. "RRDBNet", "SRVGGNetCompact", "RDN (TF.js)", "RRDN (TF.js)"
  std::vector<graph_node> nodes;  // topologically ordered; node 0 is the input
  int output = 0;                 // index of the output node
  int input_channels = 3;
  int output_channels = 3;
  int scale = 1;  // output size = scale × input size
  // The network sees image values (0..1) multiplied by input_multiplier, and its output divided by
  // output_divisor gives 0..1 again (RDN: 255 and 255; RRDN and ESRGAN .pth models: 1 and 1).
  float input_multiplier = 1.0F;
  float output_divisor = 1.0F;

  // Multiply-accumulates per input pixel, for GFLOP/s reporting.
  double macs_per_input_pixel() const;
};

// Checks indices, shapes of weights against channel counts, and that the graph is a DAG in
// order; throws std::invalid_argument naming the node.
void validate_graph(const graph& g);

}  // namespace comfydist::nn

// PrimitiveInt, PrimitiveFloat, PrimitiveString, PrimitiveStringMultiline, PrimitiveBoolean: a
// widget value passed on as an output.
#include "nodes/node_catalog.hpp"
#include "nodes/node_helpers.hpp"

namespace comfydist::nodes {
namespace {

constexpr std::string_view int_info = R"json({
  "input": {
    "required": {
      "value": [
        "INT",
        {
          "min": -9223372036854775807,
          "max": 9223372036854775807,
          "control_after_generate": "fixed"
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "value"
    ]
  },
  "is_input_list": false,
  "output": [
    "INT"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "INT"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "PrimitiveInt",
  "display_name": "Int",
  "description": "",
  "python_module": "comfy_extras.nodes_primitive",
  "category": "utilities/primitive",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": null,
  "essentials_category": null,
  "has_intermediate_output": false
})json";
constexpr std::string_view float_info = R"json({
  "input": {
    "required": {
      "value": [
        "FLOAT",
        {
          "min": -9223372036854775807,
          "max": 9223372036854775807,
          "step": 0.1
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "value"
    ]
  },
  "is_input_list": false,
  "output": [
    "FLOAT"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "FLOAT"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "PrimitiveFloat",
  "display_name": "Float",
  "description": "",
  "python_module": "comfy_extras.nodes_primitive",
  "category": "utilities/primitive",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": null,
  "essentials_category": null,
  "has_intermediate_output": false
})json";
constexpr std::string_view string_info = R"json({
  "input": {
    "required": {
      "value": [
        "STRING",
        {
          "multiline": false
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "value"
    ]
  },
  "is_input_list": false,
  "output": [
    "STRING"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "STRING"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "PrimitiveString",
  "display_name": "Text String (DEPRECATED)",
  "description": "",
  "python_module": "comfy_extras.nodes_primitive",
  "category": "utilities/primitive",
  "output_node": false,
  "deprecated": true,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "text",
    "string",
    "text box",
    "prompt"
  ],
  "essentials_category": null,
  "has_intermediate_output": false
})json";
constexpr std::string_view string_multiline_info =
    R"json({
  "input": {
    "required": {
      "value": [
        "STRING",
        {
          "multiline": true
        }
      ]
    }
  },
  "input_order": {
    "required": [
      "value"
    ]
  },
  "is_input_list": false,
  "output": [
    "STRING"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "STRING"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "PrimitiveStringMultiline",
  "display_name": "Input Text",
  "description": "",
  "python_module": "comfy_extras.nodes_primitive",
  "category": "utilities/primitive",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": [
    "text",
    "string",
    "text multiline",
    "string multiline",
    "text box",
    "prompt"
  ],
  "essentials_category": "Basics",
  "has_intermediate_output": false
})json";
constexpr std::string_view boolean_info = R"json({
  "input": {
    "required": {
      "value": [
        "BOOLEAN",
        {}
      ]
    }
  },
  "input_order": {
    "required": [
      "value"
    ]
  },
  "is_input_list": false,
  "output": [
    "BOOLEAN"
  ],
  "output_is_list": [
    false
  ],
  "output_name": [
    "BOOLEAN"
  ],
  "output_tooltips": [
    null
  ],
  "output_matchtypes": null,
  "name": "PrimitiveBoolean",
  "display_name": "Boolean",
  "description": "",
  "python_module": "comfy_extras.nodes_primitive",
  "category": "utilities/primitive",
  "output_node": false,
  "deprecated": false,
  "experimental": false,
  "dev_only": false,
  "api_node": false,
  "price_badge": null,
  "search_aliases": null,
  "essentials_category": null,
  "has_intermediate_output": false
})json";

}  // namespace

engine::node_definition primitive_int_node() {
  return make_definition(int_info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_int("value"));
  });
}

engine::node_definition primitive_float_node() {
  return make_definition(float_info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_float("value"));
  });
}

engine::node_definition primitive_string_node() {
  return make_definition(string_info, [](const engine::node_inputs& inputs, engine::node_context&) {
    return single_output(inputs.get_string("value"));
  });
}

engine::node_definition primitive_string_multiline_node() {
  return make_definition(string_multiline_info,
                         [](const engine::node_inputs& inputs, engine::node_context&) {
                           return single_output(inputs.get_string("value"));
                         });
}

engine::node_definition primitive_boolean_node() {
  return make_definition(boolean_info,
                         [](const engine::node_inputs& inputs, engine::node_context&) {
                           return single_output(inputs.get_bool("value"));
                         });
}

}  // namespace comfydist::nodes

// Random (version 4) UUIDs and the canonical-form check ComfyUI applies to client-chosen ids.
#pragma once

#include <string>
#include <string_view>

namespace comfydist {

// Lowercase hyphenated form, e.g. "1b4e28ba-2fa1-41d2-883f-0016d3cca427".
std::string make_uuid4();

// 32 lowercase hex digits without hyphens (ComfyUI's uuid4().hex, used for WebSocket sids).
std::string make_uuid4_hex();

// True when `text` equals str(uuid.UUID(text)) in Python: 8-4-4-4-12 lowercase hex digits.
bool is_canonical_uuid(std::string_view text);

}  // namespace comfydist

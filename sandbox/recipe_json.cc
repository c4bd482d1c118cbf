// Recipe files: the JSON form of schema::Recipe, read (written by
// recipe_json_writer.cc).
//
// The JSON form is Cap'n Proto's JSON codec over schema::Recipe. The codec
// is lenient where a recipe file must not be (it ignores unknown fields and
// its errors do not name the field), so the text is first parsed to a
// JsonValue, checked against the schema by reflection (names, types,
// ranges; "limits.timeoutMs" style paths in every message), and only then
// decoded. 64-bit integers are accepted as JSON numbers (exact integers up
// to 2^53) and as decimal strings, which is what the codec writes.
#include "sandbox/recipe.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <kj/exception.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "sandbox/json_syntax.h"
#include "sandbox/recipe.capnp.h"
#include "sandbox/recipe_capnp.h"

namespace jobtape::sandbox {
namespace {

[[noreturn]] void refuse(const std::string& field, const std::string& what) {
  throw RecipeError(field, "recipe field \"" + field + "\": " + what);
}

// "3:14: lone surrogate in \\u escape": the position first, as compilers say it.
[[noreturn]] void refuseJson(std::string_view text, size_t offset, const std::string& what) {
  throw RecipeError("", jsonPosition(text, offset) + ": " + what);
}

bool hasNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// ---------------------------------------------------------------------------
// JSON text.

// Cap'n Proto 0.9's JSON parser decodes the hex letters of \u escapes wrongly
// ("\u001b" becomes 0x11) and refuses non-ASCII ones, although its encoder
// writes such escapes for control characters. So escapes are resolved here,
// before parsing: to UTF-8, or to raw control bytes, which the parser takes
// inside strings. '"', '\\' and NUL keep an escape the parser reads right.
void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

uint32_t hex4(std::string_view text, size_t at) {
  uint32_t value = 0;
  if (at + 4 > text.size()) refuseJson(text, at, "incomplete \\u escape");
  auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + 4, value, 16);
  if (ec != std::errc() || end != text.data() + at + 4) {
    refuseJson(text, at, "bad \\u escape");
  }
  return value;
}

std::string resolveUnicodeEscapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') refuseJson(text, i, "NUL byte");
    if (!inString || c != '\\' || i + 1 >= text.size()) {
      if (c == '"') inString = !inString;
      out += c;
      continue;
    }
    if (text[i + 1] != 'u') {  // a two-character escape: copied as it is
      out.append(text.substr(i, 2));
      ++i;
      continue;
    }
    uint32_t cp = hex4(text, i + 2);
    i += 5;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 6 >= text.size() || text[i + 1] != '\\' || text[i + 2] != 'u') {
        refuseJson(text, i - 5, "lone surrogate in \\u escape");
      }
      uint32_t low = hex4(text, i + 3);
      if (low < 0xDC00 || low > 0xDFFF) refuseJson(text, i - 5, "bad surrogate pair in \\u escapes");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      refuseJson(text, i - 5, "lone surrogate in \\u escape");
    }
    if (cp == '"') out += "\\\"";
    else if (cp == '\\') out += "\\\\";
    else if (cp == 0) out += "\\u0000";
    else appendUtf8(out, cp);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The JsonValue against the schema.

constexpr double kMaxExactDouble = 9007199254740992.0;  // 2^53

bool isExactInteger(double value) {
  return std::isfinite(value) && std::floor(value) == value && std::fabs(value) <= kMaxExactDouble;
}

template <typename Int>
bool parsesAs(capnp::Text::Reader text) {
  Int value;
  auto [end, ec] = std::from_chars(text.begin(), text.end(), value, 10);
  return ec == std::errc() && end == text.end() && text.size() > 0 && text[0] != '+';
}

void checkValue(const std::string& path, capnp::Type type, capnp::JsonValue::Reader value);

void checkObject(const std::string& prefix, capnp::StructSchema schema, capnp::JsonValue::Reader value) {
  std::set<std::string> seen;
  for (auto field : value.getObject()) {
    std::string name = field.getName();
    std::string path = prefix + name;
    KJ_IF_MAYBE(member, schema.findFieldByName(field.getName())) {
      if (!seen.insert(name).second) refuse(path, "is given twice");
      checkValue(path, member->getType(), field.getValue());
    } else {
      std::string known;
      for (auto member : schema.getFields()) {
        known += (known.empty() ? "" : ", ") + std::string(member.getProto().getName());
      }
      refuse(path, "unknown field (known: " + known + ")");
    }
  }
}

void checkValue(const std::string& path, capnp::Type type, capnp::JsonValue::Reader value) {
  using Which = capnp::schema::Type::Which;
  switch (type.which()) {
    case Which::TEXT:
      if (!value.isString()) refuse(path, "must be a string");
      // No recipe text can carry one: paths, argv and env are C strings.
      if (hasNul(std::string_view(value.getString().begin(), value.getString().size()))) {
        refuse(path, "must not contain NUL bytes");
      }
      return;
    case Which::BOOL:
      if (!value.isBoolean()) refuse(path, "must be true or false");
      return;
    case Which::UINT64:
      if (value.isNumber() ? !(isExactInteger(value.getNumber()) && value.getNumber() >= 0)
                           : !(value.isString() && parsesAs<uint64_t>(value.getString()))) {
        refuse(path, "must be a non-negative integer");
      }
      return;
    case Which::INT64:
      if (value.isNumber() ? !isExactInteger(value.getNumber())
                           : !(value.isString() && parsesAs<int64_t>(value.getString()))) {
        refuse(path, "must be an integer");
      }
      return;
    case Which::ENUM: {
      auto schema = type.asEnum();
      if (!value.isString() || schema.findEnumerantByName(value.getString()) == nullptr) {
        std::string names;
        for (auto e : schema.getEnumerants()) {
          names += (names.empty() ? "\"" : ", \"") + std::string(e.getProto().getName()) + "\"";
        }
        refuse(path, "must be one of " + names);
      }
      return;
    }
    case Which::LIST: {
      if (!value.isArray()) refuse(path, "must be an array");
      auto elements = value.getArray();
      for (unsigned i = 0; i < elements.size(); ++i) {
        checkValue(path + "[" + std::to_string(i) + "]", type.asList().getElementType(), elements[i]);
      }
      return;
    }
    case Which::STRUCT:
      if (!value.isObject()) refuse(path, "must be an object");
      checkObject(path + ".", type.asStruct(), value);
      return;
    default:
      refuse(path, "has a type recipe files do not support");
  }
}

struct RecipeCodec : capnp::JsonCodec {
  RecipeCodec() { setPrettyPrint(true); }
};

const capnp::JsonCodec& codec() {
  static const RecipeCodec instance;
  return instance;
}

// A mount's kind defaults to "bind" (read-write) in the schema; a file must
// say what it means.
void requireMountKinds(capnp::JsonValue::Reader recipe) {
  for (auto field : recipe.getObject()) {
    if (field.getName() != "mounts") continue;
    auto mounts = field.getValue().getArray();
    for (unsigned i = 0; i < mounts.size(); ++i) {
      bool hasKind = false;
      for (auto member : mounts[i].getObject()) hasKind = hasKind || member.getName() == "kind";
      if (!hasKind) refuse("mounts[" + std::to_string(i) + "].kind", "is required (\"bind\", \"roBind\", \"tmpfs\" or \"homeOverlay\")");
    }
  }
}

}  // namespace

Recipe recipeFromJson(const std::string& json) {
  if (std::optional<JsonSyntaxError> syntax = findJsonSyntaxError(json)) throw RecipeError("", syntax->message());
  std::string text = resolveUnicodeEscapes(json);
  capnp::MallocMessageBuilder jsonMessage;
  auto value = jsonMessage.initRoot<capnp::JsonValue>();
  try {
    codec().decodeRaw(kj::ArrayPtr<const char>(text.data(), text.size()), value);
  } catch (const kj::Exception&) {
    // Past findJsonSyntaxError this is the codec's own limit; its words
    // ("expected !exhausted()") would tell a reader nothing.
    throw RecipeError("", "recipe is not JSON the codec can read");
  }
  if (!value.isObject()) throw RecipeError("", "recipe must be a JSON object");
  checkObject("", capnp::Schema::from<schema::Recipe>(), value.asReader());
  requireMountKinds(value.asReader());

  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Recipe>();
  try {
    codec().decode(value.asReader(), root);
  } catch (const kj::Exception& e) {
    throw RecipeError("", std::string("recipe could not be decoded: ") + e.getDescription().cStr());
  }
  Recipe recipe = recipeFromCapnp(root.asReader());
  validateRecipe(recipe);
  return recipe;
}


}  // namespace jobtape::sandbox

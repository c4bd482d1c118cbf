// recipeToJson: the JSON form of a recipe, written field by field.
//
// Every job's recipe is written once for the store (jobs.recipe_meta) while
// the job starts, so this is on the path a build tool pays per job: going
// through a Cap'n Proto message and the JSON codec's reflection cost about
// a million instructions for a recipe with a caller's environment, this a
// small fraction. The text is what recipeFromJson reads (the codec's
// conventions: schema field names, 64-bit integers as decimal strings,
// enumerants by name, secretEnv left out when empty as it is left unset in
// the message); recipe_test and the recipe fuzzer check that every recipe
// reads back as itself.
#include <capnp/schema.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/recipe.capnp.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {
namespace {

// The schema's names of Mount.Kind, by the enum's value: one spelling, the
// schema's.
const std::vector<std::string>& mountKindNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (auto enumerant : capnp::Schema::from<schema::Mount::Kind>().getEnumerants()) {
      out.emplace_back(enumerant.getProto().getName().cStr());
    }
    return out;
  }();
  return names;
}

class JsonText {
 public:
  void string(std::string_view text) {
    out_ += '"';
    for (char c : text) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out_ += escape;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  // `"name": ` after the separator of the previous field.
  void key(const char* name, bool first, const char* indent) {
    out_ += first ? "" : ",\n";
    out_ += indent;
    out_ += '"';
    out_ += name;
    out_ += "\": ";
  }
  template <typename Integer>
  void quotedInteger(Integer value) {
    out_ += '"' + std::to_string(value) + '"';
  }
  void raw(std::string_view text) { out_ += text; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void writeStrings(JsonText& json, const std::vector<std::string>& list) {
  json.raw("[");
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) json.raw(", ");
    json.string(list[i]);
  }
  json.raw("]");
}

void writeVars(JsonText& json, const std::vector<EnvVar>& vars) {
  if (vars.empty()) return json.raw("[]");
  json.raw("[");
  for (size_t i = 0; i < vars.size(); ++i) {
    json.raw(i == 0 ? "\n    {\"name\": " : ",\n    {\"name\": ");
    json.string(vars[i].name);
    json.raw(", \"value\": ");
    json.string(vars[i].value);
    json.raw("}");
  }
  json.raw(" ]");
}

void writeMounts(JsonText& json, const std::vector<Mount>& mounts) {
  if (mounts.empty()) return json.raw("[]");
  const auto& kinds = mountKindNames();
  json.raw("[");
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto kind = static_cast<size_t>(mounts[i].kind);
    json.raw(i == 0 ? "\n    {\"kind\": " : ",\n    {\"kind\": ");
    json.string(kind < kinds.size() ? kinds[kind] : kinds.front());
    json.raw(", \"source\": ");
    json.string(mounts[i].source);
    json.raw(", \"destination\": ");
    json.string(mounts[i].destination);
    json.raw("}");
  }
  json.raw(" ]");
}

void writeLimits(JsonText& json, const Limits& limits) {
  const std::pair<const char*, uint64_t> figures[] = {
      {"timeoutMs", limits.timeoutMs},     {"memoryBytes", limits.memoryBytes}, {"maxOpenFiles", limits.maxOpenFiles},
      {"maxProcesses", limits.maxProcesses}, {"cpuSeconds", limits.cpuSeconds},  {"maxFileBytes", limits.maxFileBytes},
      {"killGraceMs", limits.killGraceMs}};
  json.raw("{");
  bool first = true;
  for (const auto& [name, value] : figures) {
    json.raw(first ? "\"" : ", \"");
    json.raw(name);
    json.raw("\": ");
    json.quotedInteger(value);
    first = false;
  }
  json.raw("}");
}

}  // namespace

std::string recipeToJson(const Recipe& recipe) {
  JsonText json;
  json.raw("{");
  json.key("command", true, " ");
  json.string(recipe.command);
  json.key("args", false, "  ");
  writeStrings(json, recipe.args);
  json.key("env", false, "  ");
  writeVars(json, recipe.env);
  json.key("workDir", false, "  ");
  json.string(recipe.workDir);
  json.key("mounts", false, "  ");
  writeMounts(json, recipe.mounts);
  json.key("network", false, "  ");
  json.raw(recipe.network ? "true" : "false");
  json.key("hostname", false, "  ");
  json.string(recipe.hostname);
  json.key("limits", false, "  ");
  writeLimits(json, recipe.limits);
  json.key("uid", false, "  ");
  json.quotedInteger(recipe.uid);
  json.key("gid", false, "  ");
  json.quotedInteger(recipe.gid);
  json.key("name", false, "  ");
  json.string(recipe.name);
  json.key("meta", false, "  ");
  writeVars(json, recipe.meta);
  json.key("sandboxed", false, "  ");
  json.raw(recipe.sandboxed ? "true" : "false");
  if (!recipe.secretEnv.empty()) {
    json.key("secretEnv", false, "  ");
    writeStrings(json, recipe.secretEnv);
  }
  json.raw(" }\n");
  return json.take();
}

}  // namespace jobtape::sandbox

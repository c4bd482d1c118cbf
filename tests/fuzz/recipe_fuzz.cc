// Fuzzes the recipe file format: JSON parse, validation and hash. A recipe
// that parses and validates must come back from its own JSON unchanged:
// it validates again and hashes the same (the hash names "the same job" in
// the store, so a lossy round trip would make retry run something else).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sandbox/recipe.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& json) {
  std::fprintf(stderr, "recipe round trip: %s\nre-encoded: %s\n", what, json.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace jobtape::sandbox;
  const std::string json(reinterpret_cast<const char*>(data), size);
  Recipe recipe;
  try {
    recipe = recipeFromJson(json);
    validateRecipe(recipe);
  } catch (const RecipeError&) {
    return 0;  // refused with a field and a reason: what a bad file should get
  }
  const std::string hash = recipeHash(recipe);
  const std::string again = recipeToJson(recipe);
  Recipe reparsed;
  try {
    reparsed = recipeFromJson(again);
    validateRecipe(reparsed);
  } catch (const RecipeError& e) {
    fail(e.what(), again);
  }
  if (recipeHash(reparsed) != hash) fail("the hash changed", again);
  if (recipeToJson(reparsed) != again) fail("the JSON changed", again);
  return 0;
}

// Recipe files and the secrets of recipes, as <jobtape/recorder.h> offers
// them: sandbox/recipe.h and secret_env.h with the public error type.
#include <jobtape/recorder.h>

#include "recorder/secret_env.h"
#include "recorder/secret_mask.h"
#include "sandbox/recipe.h"

namespace jobtape {

namespace {

template <typename Body>
auto recipeErrors(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const sandbox::RecipeError& error) {
    throw Error(Error::Kind::recipe, error.what(), error.field(), {}, std::current_exception());
  }
}

}  // namespace

Recipe parseRecipe(std::string_view json) {
  return recipeErrors([&] { return sandbox::recipeFromJson(std::string(json)); });
}

void checkRecipe(const Recipe& recipe) {
  recipeErrors([&] { sandbox::validateRecipe(recipe); });
}

std::vector<std::string> secretVariables(const Recipe& recipe) { return recorder::secretNames(recipe); }

std::string maskSecrets(std::string_view text, const std::vector<Recipe>& recipes) {
  std::vector<std::string> values;
  for (const auto& recipe : recipes) {
    for (auto& value : recorder::secretValues(recipe)) values.push_back(std::move(value));
  }
  return recorder::SecretMask(values).maskText(text);
}

}  // namespace jobtape

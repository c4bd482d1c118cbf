// The process recipe's JSON file format, validation and canonical hash. The
// plain struct is public (<jobtape/recipe.h>); the schema of record is
// sandbox/recipe.capnp.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <jobtape/recipe.h>

namespace jobtape::sandbox {

using jobtape::EnvVar;
using jobtape::Limits;
using jobtape::Mount;
using jobtape::Recipe;

// A recipe that cannot be run: `field` names the offending field in the JSON
// spelling ("mounts[2].destination"), what() says what is wrong with it.
class RecipeError : public std::runtime_error {
 public:
  RecipeError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Checks everything the runner relies on: a command, absolute paths without
// NUL or `..`, env names without '='. Throws RecipeError.
void validateRecipe(const Recipe& recipe);

// JSON form (Cap'n Proto's JSON form of schema::Recipe). Unknown fields
// and wrong types are refused. Throws RecipeError. recipeToJson writes what
// recipeFromJson reads back as the same recipe.
Recipe recipeFromJson(const std::string& json);
std::string recipeToJson(const Recipe& recipe);

// Canonical hash: lowercase hex SHA-256 of the canonical Cap'n Proto encoding
// of the recipe. Stable across runs and machines; any field change changes it.
std::string recipeHash(const Recipe& recipe);

}  // namespace jobtape::sandbox

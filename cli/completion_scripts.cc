#include "cli/completion_scripts.h"

#include <jobtape/text.h>

#include <sstream>

namespace jobtape::cli {

namespace {

// The words of the tree are ours, but quoting them anyway keeps a script
// valid whatever a description says.
std::string quote(const std::string& word) { return shellQuote(word); }

// fish's single quotes take \\ and \' as escapes.
std::string fishQuote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\\' || c == '\'') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string commandPath(const CompletionCommand& command) {
  return command.path.empty() ? "jobtape" : "jobtape " + command.path;
}

std::string joinLines(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : "\n") + word;
  return joined;
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::vector<std::string> optionNames(const CompletionCommand& command) {
  std::vector<std::string> names;
  for (const CompletionOption& option : command.options) names.insert(names.end(), option.names.begin(), option.names.end());
  return names;
}

// ---- bash ------------------------------------------------------------------

// case "$1" in 'jobtape job') printf '%s\n' list show ...;; esac
void bashTable(std::ostringstream& out, const std::string& function, const std::vector<std::string>& keys,
               const std::vector<std::vector<std::string>>& words) {
  out << function << "() {\n  case \"$1\" in\n";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (words[i].empty()) continue;
    out << "    " << quote(keys[i]) << ") printf '%s\\n'";
    for (const std::string& word : words[i]) out << ' ' << quote(word);
    out << " ;;\n";
  }
  out << "  esac\n}\n\n";
}

const char* const kBashDriver = R"BASH(# Adds the lines of stdin that start with $1 to COMPREPLY. No word is ever
# expanded (compgen -W would expand $(...) in a word).
_jobtape_add() {
  local word
  while IFS= read -r word; do
    [[ $word == "$1"* ]] && COMPREPLY+=("$word")
  done
  return 0
}

_jobtape_is() {  # _jobtape_is WORD TABLE KEY: WORD is a line of TABLE KEY
  local line
  while IFS= read -r line; do
    [[ $line == "$1" ]] && return 0
  done < <("$2" "$3")
  return 1
}

# COMP_WORDS, split by bash at every character of COMP_WORDBREAKS, with the
# pieces of one shell word joined again (name:NAME, --opt=VALUE, a@b), into
# the caller's words and cword. A piece starts a new word when blanks precede
# it on the line.
_jobtape_words() {
  local line="$COMP_LINE" piece i blank
  words=() cword=0
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    piece="${COMP_WORDS[i]}"
    blank=0
    [[ $line == [[:blank:]]* ]] && blank=1
    line="${line#"${line%%[![:blank:]]*}"}"
    line="${line#"$piece"}"
    if ((i > 1 && !blank)) && [[ $piece == [:=@]* || ${words[-1]} == *[:=@] ]]; then
      words[-1]+="$piece"
    else
      words+=("$piece")
    fi
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  return 0
}

# Readline replaces only what follows the last COMP_WORDBREAKS character of
# the word; the candidates were matched against the whole word.
_jobtape_trim_breaks() {
  local i prefix=
  for ((i = ${#1}; i > 0; i--)); do
    if [[ $COMP_WORDBREAKS == *"${1:i-1:1}"* ]]; then
      prefix="${1:0:i}"
      break
    fi
  done
  [[ -n $prefix ]] || return 0
  for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"; done
}

_jobtape() {
  local path=jobtape word i cword
  local -a home=() words=()
  _jobtape_words
  local cur="${words[cword]}"
  COMPREPLY=()
  for ((i = 1; i < cword; i++)); do
    word="${words[i]}"
    if [[ $word == -- ]]; then  # the rest is the job's command line
      compopt -o default 2>/dev/null
      return 0
    fi
    if [[ $word == -* ]]; then
      if _jobtape_is "$word" _jobtape_value_options "$path"; then
        ((i++))
        [[ $word == --home && $i -lt $cword ]] && home=(--home "${words[i]}")
      fi
      continue
    fi
    if _jobtape_is "$word" _jobtape_subcommands "$path"; then
      path="$path $word"
    fi
  done
  if ((cword > 1)) && _jobtape_is "${words[cword - 1]}" _jobtape_value_options "$path"; then
    _jobtape_add "$cur" < <(_jobtape_option_values "$path ${words[cword - 1]}")
    ((${#COMPREPLY[@]})) || compopt -o default 2>/dev/null
    _jobtape_trim_breaks "$cur"
    return 0
  fi
  if [[ $cur == -* && ! $cur =~ ^-[0-9]+$ ]]; then
    _jobtape_add "$cur" < <(_jobtape_options "$path")
  else
    _jobtape_add "$cur" < <(_jobtape_subcommands "$path")
  fi
  if [[ $cur != -* || $cur =~ ^-[0-9]*$ ]] && _jobtape_takes_selector "$path"; then
    _jobtape_add "$cur" < <(command "${COMP_WORDS[0]}" "${home[@]}" __complete-selectors 2>/dev/null)
  fi
  _jobtape_trim_breaks "$cur"
  return 0
}

complete -F _jobtape jobtape
)BASH";

std::string bashScript(const std::vector<CompletionCommand>& tree) {
  std::ostringstream out;
  out << "# bash completion for jobtape, generated by `jobtape completion bash`.\n"
         "# Commands and options are those of this jobtape; job selectors come\n"
         "# from the store when TAB is pressed (jobtape __complete-selectors).\n\n";
  std::vector<std::string> paths;
  std::vector<std::vector<std::string>> subcommands, options, valueOptions;
  std::vector<std::string> valueKeys;
  std::vector<std::vector<std::string>> values;
  std::string selectorPaths;
  for (const CompletionCommand& command : tree) {
    paths.push_back(commandPath(command));
    subcommands.push_back(command.subcommands);
    options.push_back(optionNames(command));
    valueOptions.emplace_back();
    for (const CompletionOption& option : command.options) {
      if (!option.takesValue) continue;
      valueOptions.back().insert(valueOptions.back().end(), option.names.begin(), option.names.end());
      for (const std::string& name : option.names) {
        valueKeys.push_back(commandPath(command) + " " + name);
        values.push_back(option.values);
      }
    }
    if (command.takesJobSelector) selectorPaths += (selectorPaths.empty() ? "" : "|") + quote(commandPath(command));
  }
  bashTable(out, "_jobtape_subcommands", paths, subcommands);
  bashTable(out, "_jobtape_options", paths, options);
  bashTable(out, "_jobtape_value_options", paths, valueOptions);
  bashTable(out, "_jobtape_option_values", valueKeys, values);
  out << "_jobtape_takes_selector() {\n  case \"$1\" in\n    " << (selectorPaths.empty() ? "''" : selectorPaths)
      << ") return 0 ;;\n  esac\n  return 1\n}\n\n"
      << kBashDriver;
  return out.str();
}

// ---- zsh -------------------------------------------------------------------

// _describe's "name:description", the name's colons escaped.
std::string describeEntry(const std::string& name, const std::string& description) {
  std::string entry;
  for (char c : name) {
    if (c == ':' || c == '\\') entry += '\\';
    entry += c;
  }
  return description.empty() ? entry : entry + ":" + description;
}

void zshTable(std::ostringstream& out, const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& entries) {
  out << "typeset -gA " << name << "\n" << name << "=(\n";
  for (const auto& [key, value] : entries) out << "  " << quote(key) << ' ' << quote(value) << '\n';
  out << ")\n";
}

const char* const kZshDriver = R"ZSH(
_jobtape() {
  local path_=jobtape word i
  local -a home entries selectors
  for (( i = 2; i < CURRENT; i++ )); do
    word=${words[i]}
    if [[ $word == -- ]]; then  # the rest is the job's command line
      _files
      return
    fi
    if [[ $word == -* ]]; then
      if [[ -n ${_jobtape_takes_value[$path_ $word]} ]]; then
        (( i++ ))
        [[ $word == --home ]] && (( i < CURRENT )) && home=(--home ${words[i]})
      fi
      continue
    fi
    [[ -n ${_jobtape_is_command[$path_ $word]} ]] && path_="$path_ $word"
  done
  local prev=${words[CURRENT-1]}
  if (( CURRENT > 2 )) && [[ -n ${_jobtape_takes_value[$path_ $prev]} ]]; then
    if [[ -n ${_jobtape_values[$path_ $prev]} ]]; then
      compadd -- ${(f)_jobtape_values[$path_ $prev]}
    else
      _files
    fi
    return
  fi
  if [[ $PREFIX == -* && $PREFIX != -<-> ]]; then
    entries=(${(f)_jobtape_options[$path_]})
    _describe -t options option entries
  elif [[ -n ${_jobtape_commands[$path_]} ]]; then
    entries=(${(f)_jobtape_commands[$path_]})
    _describe -t commands command entries
  fi
  if [[ -n ${_jobtape_selectors[$path_]} && ( $PREFIX != -* || $PREFIX == -<-> || $PREFIX == - ) ]]; then
    selectors=(${(f)"$(command ${words[1]} $home __complete-selectors 2>/dev/null)"})
    (( $#selectors )) && compadd -J selectors -X 'job selector' -- $selectors
  fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
  _jobtape "$@"
else
  compdef _jobtape jobtape
fi
)ZSH";

std::string zshScript(const std::vector<CompletionCommand>& tree) {
  std::ostringstream out;
  out << "#compdef jobtape\n"
         "# zsh completion for jobtape, generated by `jobtape completion zsh`.\n"
         "# Commands and options are those of this jobtape; job selectors come\n"
         "# from the store when TAB is pressed (jobtape __complete-selectors).\n\n";
  std::vector<std::pair<std::string, std::string>> commands, isCommand, options, takesValue, values, selectors;
  for (const CompletionCommand& command : tree) {
    std::string path = commandPath(command);
    std::vector<std::string> commandEntries;
    for (const CompletionCommand& other : tree) {
      for (const std::string& sub : command.subcommands) {
        if (other.path == (command.path.empty() ? sub : command.path + " " + sub)) {
          commandEntries.push_back(describeEntry(sub, other.description));
        }
      }
    }
    for (const std::string& sub : command.subcommands) {
      isCommand.emplace_back(path + " " + sub, "1");
      if (sub == "help") commandEntries.push_back(describeEntry(sub, "Print the help of a command"));
    }
    if (!commandEntries.empty()) commands.emplace_back(path, joinLines(commandEntries));
    std::vector<std::string> optionEntries;
    for (const CompletionOption& option : command.options) {
      for (const std::string& name : option.names) {
        optionEntries.push_back(describeEntry(name, option.description));
        if (!option.takesValue) continue;
        takesValue.emplace_back(path + " " + name, "1");
        if (!option.values.empty()) values.emplace_back(path + " " + name, joinLines(option.values));
      }
    }
    options.emplace_back(path, joinLines(optionEntries));
    if (command.takesJobSelector) selectors.emplace_back(path, "1");
  }
  zshTable(out, "_jobtape_commands", commands);
  zshTable(out, "_jobtape_is_command", isCommand);
  zshTable(out, "_jobtape_options", options);
  zshTable(out, "_jobtape_takes_value", takesValue);
  zshTable(out, "_jobtape_values", values);
  zshTable(out, "_jobtape_selectors", selectors);
  out << kZshDriver;
  return out.str();
}

// ---- fish ------------------------------------------------------------------

const char* const kFishDriver = R"FISH(
# The command the words typed so far lead to: "jobtape job show", with " --"
# appended once the job's own command line has begun.
function __jobtape_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path jobtape
    set -l skip 0
    for word in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test "$word" = --
            echo "$path --"
            return
        end
        if string match -q -- '-*' $word
            if contains -- "$path $word" $__jobtape_value_options
                set skip 1
            end
            continue
        end
        if contains -- "$path $word" $__jobtape_command_paths
            set path "$path $word"
        end
    end
    echo $path
end

function __jobtape_at
    test (__jobtape_path) = "$argv[1]"
end

# The --home typed on the command line, for the selectors of that store.
function __jobtape_selectors
    set -l tokens (commandline -opc)
    set -l at (contains -i -- --home $tokens)
    if test -n "$at"; and test (count $tokens) -gt $at
        command jobtape --home $tokens[(math $at + 1)] __complete-selectors 2>/dev/null
    else
        command jobtape __complete-selectors 2>/dev/null
    end
end
)FISH";

std::string fishOption(const std::string& condition, const CompletionOption& option) {
  std::string line = "complete -c jobtape -n " + fishQuote(condition);
  for (const std::string& name : option.names) {
    line += name.starts_with("--") ? " -l " + fishQuote(name.substr(2)) : " -s " + fishQuote(name.substr(1));
  }
  if (option.takesValue) {
    line += option.values.empty() ? " -r -F" : " -x -a " + fishQuote(joinWords(option.values));
  }
  if (!option.description.empty()) line += " -d " + fishQuote(option.description);
  return line;
}

std::string fishScript(const std::vector<CompletionCommand>& tree) {
  std::ostringstream out;
  out << "# fish completion for jobtape, generated by `jobtape completion fish`.\n"
         "# Commands and options are those of this jobtape; job selectors come\n"
         "# from the store when TAB is pressed (jobtape __complete-selectors).\n\n";
  out << "set -g __jobtape_command_paths";
  for (const CompletionCommand& command : tree) {
    for (const std::string& sub : command.subcommands) out << ' ' << fishQuote(commandPath(command) + " " + sub);
  }
  out << "\nset -g __jobtape_value_options";
  for (const CompletionCommand& command : tree) {
    for (const CompletionOption& option : command.options) {
      if (!option.takesValue) continue;
      for (const std::string& name : option.names) out << ' ' << fishQuote(commandPath(command) + " " + name);
    }
  }
  out << '\n' << kFishDriver << "\ncomplete -c jobtape -f\n";
  for (const CompletionCommand& command : tree) {
    std::string condition = "__jobtape_at " + fishQuote(commandPath(command));
    for (const std::string& sub : command.subcommands) {
      std::string description = sub == "help" ? "Print the help of a command" : "";
      for (const CompletionCommand& other : tree) {
        if (other.path == (command.path.empty() ? sub : command.path + " " + sub)) description = other.description;
      }
      out << "complete -c jobtape -n " << fishQuote(condition) << " -a " << fishQuote(sub) << " -d "
          << fishQuote(description) << '\n';
    }
    for (const CompletionOption& option : command.options) out << fishOption(condition, option) << '\n';
    if (command.takesJobSelector) {
      out << "complete -c jobtape -n " << fishQuote(condition) << " -a '(__jobtape_selectors)'\n";
    }
  }
  return out.str();
}

}  // namespace

const std::vector<std::string>& completionShells() {
  static const std::vector<std::string> shells{"bash", "zsh", "fish"};
  return shells;
}

std::optional<std::string> completionScript(const std::string& shell, const std::vector<CompletionCommand>& tree) {
  if (shell == "bash") return bashScript(tree);
  if (shell == "zsh") return zshScript(tree);
  if (shell == "fish") return fishScript(tree);
  return std::nullopt;
}

}  // namespace jobtape::cli

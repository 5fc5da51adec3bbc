// input_file.h — opening a file the user named (a tokenizer, a prompt, text to tokenize) with one
// clear message for each way it can be wrong: missing, a directory, a path through a regular file,
// unreadable. "[module] path: is a directory (a vocabulary file was expected)".
#pragma once
#include <string>

namespace rwkv {

// Throws "[module] path: ..." unless `path` can be opened for reading as a file; `what` names
// the kind of file expected ("vocabulary file", "prompt file").
void require_input_file(const std::string& path, const char* module, const char* what);
// The whole file, with the same checks as require_input_file.
std::string read_input_file(const std::string& path, const char* module, const char* what);

}  // namespace rwkv

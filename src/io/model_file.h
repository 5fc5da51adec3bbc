// model_file.h — reading and writing state dicts: PyTorch .pth (torch.save zip + pickle) and
// safetensors. Readers are zero-copy (tensors point into an mmap of the file); writers go
// through a temp file and a rename.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace rwkv {

// .pth as torch.save writes it; strips a "_forward_module." prefix. Errors: "[pth] <path>: ...".
StateDict load_pth(const std::string& path);
// The CRC-32 of every record a .pth load uses is checked (a flipped byte is reported with its
// record and tensor); off only on request (`--skip_crc`), for speed.
void set_pth_crc_check(bool on);
// Writes a .pth that torch.load(weights_only=True) accepts (tensors in sd order).
void save_pth(const std::string& path, const StateDict& sd);

// safetensors; `metadata` receives the "__metadata__" strings. Errors: "[safetensors] <path>: ...".
StateDict load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);
void save_safetensors(const std::string& path, const StateDict& sd,
                      const std::map<std::string, std::string>& metadata = {});

// By content (zip magic -> .pth, else safetensors) / by extension (.safetensors, else .pth).
StateDict load_model_file(const std::string& path);
void save_model_file(const std::string& path, const StateDict& sd);

}  // namespace rwkv

#pragma once
#include <string>

namespace zhil {
// Lower-case hex SHA-256 of a file's bytes (OpenSSL EVP). Throws std::runtime_error if unreadable.
std::string sha256_file_hex(const std::string& path);
}

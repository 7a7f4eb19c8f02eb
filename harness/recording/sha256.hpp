#pragma once
#include <string>

namespace zhil {
// Lower-case hex SHA-256 of a file's bytes (OpenSSL EVP). Throws std::runtime_error if unreadable.
std::string sha256_file_hex(const std::string& path);
// Of bytes in memory (a record's text, before it is written).
std::string sha256_hex(const std::string& bytes);
}

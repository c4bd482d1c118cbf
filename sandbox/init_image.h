// The init program (init_main.cc), linked into the library as bytes and run
// from a sealed memfd.
//
// pid 1 of every sandbox starts as a clone that borrows the caller's memory
// (CLONE_VM | CLONE_VFORK) and at once execs this program, so that the
// caller's address space is never copied: a fork of an embedding build tool
// with a few GiB resident copied its page tables and then paid a
// copy-on-write fault for each page it wrote while the job ran, tens of ms a
// job per GiB. Exec'd, pid 1 has a memory of its own of a few hundred KiB,
// and none of the caller's data is ever mapped inside the sandbox.
//
// Carried in the library rather than installed beside it, an embedder needs
// no path to find it, and nothing on disk can be swapped for it: the memfd
// is sealed (no write, grow or shrink) before anything execs it.
#pragma once

namespace jobtape::sandbox {

// The memfd (close-on-exec), made on first use and kept for the process's
// life; checked at each call to still be that memfd (a program that closes
// every fd may have reused the number). -1 with errno when no memfd can be
// made (EACCES: the kernel's vm.memfd_noexec forbids running one).
int initImageFd() noexcept;

}  // namespace jobtape::sandbox

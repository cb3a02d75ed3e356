// SPDX-License-Identifier: MIT
/*
 * The key sgxemu's own tools (the benchmark) sign their scratch enclaves
 * with: an RSA-3072 key with exponent 3, made once with
 * `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072
 * -pkeyopt rsa_keygen_pubexp:3`. It protects nothing, like the key Linux's
 * selftests ship; it is built in because generating a fresh one costs
 * about a second, more than a whole benchmark point.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "sign/sign.h"

static const char tool_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIG/gIBADANBgkqhkiG9w0BAQEFAASCBugwggbkAgEAAoIBgQDmA+PAVfIGqzWV\n"
	"QVn0sPXYXz6hhDL/vxo+LHU5tnC9SRR1JZodf3ZQroba1SCMuhTJ1iln9aCbYA1a\n"
	"9o3hGn+tWs14OhN8AaGJdgp5lvtc14UPaoysPBIdNRMDeiFiu5whRBoNnsVHv0RB\n"
	"+bwF+spQH582OmHDFSrnXRay0gfzvpOpmG1zcnMG6xqx5Lps1lSJPUmvEUr6twDu\n"
	"uldNCUZNZIR5mv6BGldbaQanoYljI/eOZs/wXZFhjejbZlf6mO9BKWAKcRTZ4SPr\n"
	"7TYc51b2ZmPxCvR6AnRqHxSSX0y7WfuDyWR1HSYo+psEP9roE1V5iREG+866ez/s\n"
	"3sBYfiNy6IV6EODBirPjHDIQK2lizIHeqapSmVjs27FGLJk9YvcTYo2rY3usdFvy\n"
	"kaRkNnHye0PYG52RsRmTJ+YDqc+FhiRjX4KkTHfGPPzg7AEr0bHKrACX7osyigwr\n"
	"FN6DrEivZr0vno1RHpGT0zPYftpLmxvjOTB/yFxK9rhRpPPi7C8CAQMCggGBAJlX\n"
	"7Srj9q8czmOA5qMgo+WU1Gutd1UqEX7ITiZ5oH4wuE4ZEWj/pDXJrzyOFbMmuIaO\n"
	"xkVOaxJACOdPCUC8VR48iPrRYlKrwQZOsaZkp5M6WLTxsx19YWjODKz8FkHSaBYt\n"
	"ZrO/Li/U2Cv70q6nMYq/v3l8QSy4x0ToucyMBU0pt8Zlnkz291nyEcvt0Z3kOFt+\n"
	"MR9g3Kckq0nRj4iw2YjtraZnVFYRj5JGBG/BBkIX+l7vNUrpC5Zemzzu5VG7SOeh\n"
	"5ah8d4GBP0tmA3uzGPGxL/cKl1OcPeMVSOQYoGofl0jSeLJkcttnZvHqel9qXlIz\n"
	"r1bB1EeAgC4MTydwl7LwSVje8uTQwhh5qBDAC50Br3AFj44d+eoA/aJCuKRQiEyt\n"
	"QoESght67SeFRKarIuzUzRcyGxBkuH5mcaGiOnxuPhTz9sDgwb0lEXrflpy8R0Em\n"
	"ecoYTgqBBTqc+p3Cw2AXOUG4nFz2hzWJY0GQ0EbkAekozFMvw3WD8vcMAW0bawKB\n"
	"wQD8n5QWSkDwWIefMGgbPP3j3+vGpD3Gn960pC3Bc1xSjavFVTTe2T98lZFaS2KL\n"
	"DV+82VfJcZ6Kiloxg80lkbasm+EPVWdmEqTNUSZRAV6VcZG7VuTXBmQdc+Z79WKa\n"
	"gAJtzdm8+j2FmjhfJ64RcK3r6OxoVbCSuHyZWcdWhRGhmPHMSuDThYa3VzgAmbOj\n"
	"XvdxNUXlADEQlTguQJIBgdXWorwNSUJXBjeheL1OwGmp9lbqbttniLTV5MHcXtpi\n"
	"DnECgcEA6Rbzd2wgp0a9W6PIyB2zp/ywN9bTtfg44Nr5esb/yZzs0Th6iq06Y0nv\n"
	"PxTAzeZoQWIyO2dxxLAldkh8d8OJOeQ2ZW0NBD7r8RSPpgn5Ydho+0puJmX98GZO\n"
	"VtMhrGooMpDQLM16/aG/2CIPWMUPo1MjzPrEZmGIPDR0OrFmKUfVd6avr3XOcy4q\n"
	"qALrnVhPd70EA8nlEjNMJOjUlYZNyKErP8BgbqaPIgxhp2U4N07CGw0im3gCRMwK\n"
	"ArQXXTSfAoHBAKhqYrmG1fWQWmogRWd9/pfqnS8YKS8VPyMYHoD3kuGzx9jjeJSQ\n"
	"1P25C5GHlwdeP9M7j9uhFFxcPCECiMO2echn61+ORO63GIjgxDYA6bj2YSePQzoE\n"
	"Qr5NRFKjlxGqrEkz5n38KQO8JZTFHrZLHp1F8vA5IGHQUxDmhORYtmu7S92HQI0D\n"
	"ryTk0ABmd8I/T6DOLpiqy2BjesmAYVZWjo8XKAjbgY9Zemul04nVm8akOfGfPO+w\n"
	"eI6YgT2UkZa0SwKBwQCbZKJPnWsaLyjnwoXavnfFUyAlOeJ5UCXrPKZR2f/bvfM2\n"
	"JacHHibs2/TUuICJREWA7CF876EtysOkMFL6glt77XmY814C1J1LYwpusVDr5ZtS\n"
	"MZ7EQ/6gRDQ54hZy8XAhteAd3lH+a9U6wV+Qg1/CN20zUdhEQQV9eE18dkQbhTj6\n"
	"bx/KTomiHscarJ0TkDT6fgKtMUNhd4gYmzhjrt6FwMd/1ZWfGbTBXZZvmNAk3ywS\n"
	"CMG8+qwt3VwBzWTozb8CgcEAh/fStDzONSsuJ3hCEzJNstl3M0BjULH9VWqOMF04\n"
	"bsNzKdsc/IoMlWz0QJ1LOBRoCcgLtARYq9BskpqEnTfnJ1iRT+SS/umdhV0GrQ6x\n"
	"/nrglpbt49myOh1PSMr4koxfGkOV3RE5LByY31UdF4qZEOOrMjJWYph1cQcfhCc7\n"
	"WzS81ZweCwmSDdnv7xX+isiZ7A9hfB82pMoJtpd3NxXx3aR5RrWSkZvAxvPiuQN0\n"
	"0FxYEgaxg7g3TuEihd+Tx89G\n"
	"-----END PRIVATE KEY-----\n";

EVP_PKEY *sgx_sign_tool_key(void)
{
	BIO *bio = BIO_new_mem_buf(tool_key_pem, (int)sizeof(tool_key_pem) - 1);
	EVP_PKEY *key;

	if (!bio)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

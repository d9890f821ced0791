// The wallet driven from Kotlin on the JVM through the generated bindings, as an Android app
// drives it. Run by tests/bindings/foreign.rs against the issuer and test verifier it started;
// the environment says where they are. Holder keys: the JVM's own EC provider behind the
// KeyStore interface, as an app puts the Android Keystore there. HTTP: the wallet's built-in
// transport, trusting the development CA. Exits non-zero on the first check that fails.

import java.io.File
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.concurrent.ConcurrentHashMap
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import uniffi.mobile_bindings.*

fun check(condition: Boolean, what: String) {
    if (!condition) {
        System.err.println("FAILED: $what")
        exitProcess(1)
    }
}

class FixedStorageKey(private val key: ByteArray) : StorageKeyProvider {
    override fun storageKey(): ByteArray = key
}

class JcaKeyStore : KeyStore {
    val pairs = ConcurrentHashMap<String, KeyPair>()

    override fun generate(alias: String): ByteArray {
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"))
        val pair = generator.generateKeyPair()
        if (pairs.putIfAbsent(alias, pair) != null) throw WalletException.KeyStore("alias taken")
        return sec1(pair)
    }

    override fun publicKey(alias: String): ByteArray =
        sec1(pairs[alias] ?: throw WalletException.KeyStore("no such key"))

    // SHA256withECDSA gives ASN.1 DER, which is what the bindings take.
    override fun sign(alias: String, message: ByteArray): ByteArray {
        val pair = pairs[alias] ?: throw WalletException.KeyStore("no such key")
        val signature = Signature.getInstance("SHA256withECDSA")
        signature.initSign(pair.private)
        signature.update(message)
        return signature.sign()
    }

    override fun delete(alias: String) {
        pairs.remove(alias)
    }

    // The uncompressed point 04 || x || y: the last 65 bytes of the SubjectPublicKeyInfo.
    private fun sec1(pair: KeyPair): ByteArray {
        val encoded = pair.public.encoded
        return encoded.copyOfRange(encoded.size - 65, encoded.size)
    }
}

fun hex(text: String): ByteArray = text.chunked(2).map { it.toInt(16).toByte() }.toByteArray()

fun main() = runBlocking {
    val env = System.getenv()
    val keys = JcaKeyStore()
    val settings = WalletSettings(
        dbPath = env.getValue("WALLET_DB"),
        trustListUrl = env.getValue("TRUST_LIST_URL"),
        trustAnchorJwk = File(env.getValue("ANCHOR_FILE")).readText(),
        caPem = File(env.getValue("CA_FILE")).readText(),
    )
    val wallet = Wallet(settings, FixedStorageKey(hex(env.getValue("WALLET_STORAGE_KEY"))), keys, null)
    try {
        Wallet(settings, FixedStorageKey(ByteArray(32)), keys, null)
        check(false, "another storage key opened the wallet")
    } catch (e: WalletException.WrongKey) {
    }

    // Receive: the person sees who offers what, types a wrong code, then the right one.
    var offer = wallet.receiveOffer(env.getValue("OFFER_URI"))
    val summary = offer.summary()
    check(summary.issuerName == "State issuer (development)", "issuer name")
    check(summary.credentials.map { it.labels.en } == listOf("Identity (PID)", "Person attestation"), "offered types")
    check(summary.txCode?.length == 6u, "tx_code shape")
    val txCode = env.getValue("TX_CODE")
    try {
        offer.accept(if (txCode == "000000") "111111" else "000000")
        check(false, "a wrong code was accepted")
    } catch (e: WalletException.Refused) {
        check(e.code == "invalid_grant", "refusal code")
    }
    offer.close()
    offer = wallet.receiveOffer(env.getValue("OFFER_URI"))
    val ids = offer.accept(txCode)
    check(ids.size == 11, "11 copies stored, not ${ids.size}")
    check(keys.pairs.size == 11, "one platform key per copy")

    // List.
    val credentials = wallet.credentials()
    check(credentials.size == 2, "one entry per batch")
    val claims = credentials[0].claims.associateBy { it.name }
    check(claims.getValue("family_name").value == "Peeters", "family name")
    check(claims.getValue("birthdate").label.nl == "Geboortedatum", "claim label")
    check(credentials[1].singleUse && credentials[1].unusedCopies == 10u, "10 copies")
    check(wallet.runningLow().isEmpty(), "nothing running low")

    // Present: who asks what, on whose behalf; the person accepts.
    val request = wallet.receiveRequest(env.getValue("REQUEST_URI"))
    val asked = request.summary()
    check(asked.verifierName == "Shop (test)", "verifier name from the trust list")
    check(asked.platform == "Example Market" && asked.purpose == "Age check", "on whose behalf")
    check(asked.credentials[0].claims == listOf("age_over_18") && asked.satisfiable, "claims asked")
    val outcome = request.accept()
    check(outcome.redirectUri?.startsWith("https://verifier.example/done") == true, "redirect")
    try {
        request.decline()
        check(false, "a request was answered twice")
    } catch (e: WalletException.AlreadyAnswered) {
    }

    // The log.
    val log = wallet.log()
    check(log.map { it.kind to it.outcome } == listOf("issuance" to "received", "presentation" to "presented"), "log")
    check(log[1].counterparty == "Shop (test)" && log[1].claims == listOf("age_over_18"), "log entry")
    val exported = wallet.exportLog()
    check(!exported.contains("Peeters"), "no claim value in the log")
    wallet.close()
    println("flow complete")
}

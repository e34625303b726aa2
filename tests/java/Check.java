// Loads a keystore the way a Java application does, recovers the private key, signs data
// with it and verifies the signature with the certificate's public key. Used by certmint's
// interop tests; run with the JDK's single-file source launcher (no build tool):
//
//   java tests/java/Check.java TYPE FILE ALIAS STOREPASS [KEYPASS]
//
// TYPE is a KeyStore type (JKS, PKCS12). KEYPASS defaults to STOREPASS. On success it prints
//   OK type=JKS alias=acme_jwt key=RSA/PKCS#8 bits=2048 chain=1 verify=true
// and exits 0; otherwise it prints "FAIL ..." to stderr and exits 1.
// Run it under a UTF-8 locale (LC_ALL=C.UTF-8) so non-ASCII passwords reach Java intact.

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.util.Collections;

public class Check {
    private static void fail(String message) {
        System.err.println("FAIL " + message);
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: java Check.java TYPE FILE ALIAS STOREPASS [KEYPASS]");
            System.exit(2);
        }
        String type = args[0];
        String file = args[1];
        String alias = args[2];
        char[] storePass = args[3].toCharArray();
        char[] keyPass = (args.length == 5 ? args[4] : args[3]).toCharArray();

        KeyStore ks = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(file)) {
            ks.load(in, storePass);
        }
        if (!ks.isKeyEntry(alias)) {
            fail("no key entry `" + alias + "`; aliases: " + Collections.list(ks.aliases()));
        }
        Key key = ks.getKey(alias, keyPass);
        if (!(key instanceof PrivateKey)) {
            fail("entry `" + alias + "` holds no private key: " + key);
        }
        PrivateKey pk = (PrivateKey) key;
        Certificate[] chain = ks.getCertificateChain(alias);
        if (chain == null || chain.length == 0) {
            fail("entry `" + alias + "` has no certificate chain");
        }
        X509Certificate leaf = (X509Certificate) chain[0];

        String sigAlg = pk.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256with" + pk.getAlgorithm();
        byte[] data = "certmint interop check".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance(sigAlg);
        signer.initSign(pk);
        signer.update(data);
        byte[] sig = signer.sign();
        Signature verifier = Signature.getInstance(sigAlg);
        verifier.initVerify(leaf.getPublicKey());
        verifier.update(data);
        boolean ok = verifier.verify(sig);

        String bits = pk instanceof RSAKey ? Integer.toString(((RSAKey) pk).getModulus().bitLength()) : "?";
        String line = "type=" + ks.getType() + " alias=" + alias + " key=" + pk.getAlgorithm() + "/"
                + pk.getFormat() + " bits=" + bits + " chain=" + chain.length + " verify=" + ok;
        if (!ok) {
            fail(line);
        }
        System.out.println("OK " + line);
    }
}
